// Reading what comes back from the mail world (contract A2): pure functions, no Nest, no database.
export { classify, isHardBounce } from './classify';
export { parseInbound } from './parse';
export { stripReply } from './strip-reply';
export type {
  Classification,
  InboundKind,
  InboundReport,
  OriginalMessage,
  ParsedInbound,
  ReportRecipient,
} from './types';
