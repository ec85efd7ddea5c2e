/** Any failed registrar call: HTTP error, network failure or malformed response. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the registrar could not be reached. */
    readonly status: number,
    /** Machine-readable code from the registrar (`DEVICE_NOT_FOUND`), or a generic one. */
    readonly code: string,
    message: string,
    readonly correlationId?: string,
  ) {
    super(message);
  }

  get isUnauthorized(): boolean {
    return this.status === 401;
  }

  /** Build from a non-2xx response. Reads `{ code, message, correlationId }` or Nest's default body. */
  static async fromResponse(response: Response): Promise<ApiError> {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      // Not JSON: fall back to the status line.
    }
    const record =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const code =
      typeof record['code'] === 'string'
        ? record['code']
        : typeof record['error'] === 'string'
          ? record['error'].toUpperCase().replace(/\s+/g, '_')
          : `HTTP_${response.status}`;
    const raw = record['message'];
    const message =
      typeof raw === 'string'
        ? raw
        : Array.isArray(raw)
          ? raw.filter((m): m is string => typeof m === 'string').join('; ')
          : response.statusText || `Request failed with status ${response.status}`;
    const correlationId =
      typeof record['correlationId'] === 'string' ? record['correlationId'] : undefined;
    return new ApiError(response.status, code, message, correlationId);
  }

  static network(cause: unknown): ApiError {
    const error = new ApiError(0, 'NETWORK', 'The registrar could not be reached.');
    (error as { cause?: unknown }).cause = cause;
    return error;
  }
}

/** A message fit to show a person. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
