// Domain errors carry a stable code; the exception filter maps codes to HTTP statuses.
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  MALFORMED_BODY: 'MALFORMED_BODY',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  CLAIM_CODE_INVALID: 'CLAIM_CODE_INVALID',
  INVITE_INVALID: 'INVITE_INVALID',
  ENROLLMENT_NONCE_INVALID: 'ENROLLMENT_NONCE_INVALID',
  ENROLLMENT_PROOF_INVALID: 'ENROLLMENT_PROOF_INVALID',
  KEY_REVOKED: 'KEY_REVOKED',
  KEY_ALREADY_ENROLLED: 'KEY_ALREADY_ENROLLED',
  NOT_READY: 'NOT_READY',
  /** The MQTT broker did not confirm a device account (MQTT_PROVISIONING=dynsec). */
  MQTT_PROVISIONING_FAILED: 'MQTT_PROVISIONING_FAILED',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const errorStatus: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_BODY: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  CLAIM_CODE_INVALID: 403,
  INVITE_INVALID: 403,
  ENROLLMENT_NONCE_INVALID: 400,
  ENROLLMENT_PROOF_INVALID: 400,
  KEY_REVOKED: 403,
  KEY_ALREADY_ENROLLED: 409,
  NOT_READY: 503,
  MQTT_PROVISIONING_FAILED: 503,
  INTERNAL: 500,
};

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Safe, client-visible details (never secrets). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (what: string): DomainError =>
  new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);
export const forbidden = (message = 'insufficient role for this action'): DomainError =>
  new DomainError(ErrorCode.FORBIDDEN, message);

/** The JSON body of every error response. */
export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  details?: unknown;
  correlationId: string;
}
