/** What a dispatch's values are for; it fixes the audit action (run.start, secret.inject): a caller never names the action of its own read. */
export const DISPATCH_PURPOSES = ["run", "inject"] as const;
export type DispatchPurpose = (typeof DISPATCH_PURPOSES)[number];

/** Longest run ticket looked at (run-record.ts); anything longer is refused unread. */
export const MAX_RUN_TICKET_LENGTH = 8192;
