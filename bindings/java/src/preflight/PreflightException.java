package preflight;

/**
 * An error from the engine: the C ABI's status code and the SCIM Error resource it returned
 * ({@code {"schemas":[...Error],"status":"400","scimType":"invalidSyntax","detail":"..."}}).
 */
public class PreflightException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String scimType;
  private final String detail;
  private final String json;

  PreflightException(int status, String scimType, String detail, String json) {
    super((scimType.isEmpty() ? "internal" : scimType) + ": " + detail);
    this.status = status;
    this.scimType = scimType;
    this.detail = detail;
    this.json = json;
  }

  /** The C ABI's status code (preflight_status): 1 invalidValue, 2 invalidSyntax, 5 tooMany... */
  public int status() { return status; }

  /** The SCIM scimType ("invalidSyntax", "tooMany", ...); empty for an internal error. */
  public String scimType() { return scimType; }

  /** The human message, with its location when there is one. */
  public String detail() { return detail; }

  /** The SCIM Error resource, as an HTTP service would return it. */
  public String json() { return json; }
}
