/** What goes back to the sender. `contentType` is omitted for an empty body. */
export interface Reply {
  status: number;
  contentType?: string;
  headers?: Record<string, string>;
  body: string;
}
