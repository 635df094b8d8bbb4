/**
 * Thrown by a verification step to refuse a notification. `status` is the HTTP status a v3 sender
 * gets (v2 always answers 200 with return_code FAIL); `message` is the reason the sender is told,
 * so it must name the cause without revealing any key.
 */
export class Rejection extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'Rejection';
  }
}
