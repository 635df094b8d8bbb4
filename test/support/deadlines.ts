/**
 * What a test allows past one of the tool's own deadlines before calling it missed: time for a
 * loaded machine (two suites at once on 2 cores) to get round to the timer. Tests never assert how
 * fast this machine is; a bound is `the tool's deadline + LOADED_MACHINE_SLACK_MS`, and only where
 * the fault it guards against would take far longer (a hang, a 25 s trickle, a lock wait).
 */
export const LOADED_MACHINE_SLACK_MS = 10_000;
