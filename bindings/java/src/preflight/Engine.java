package preflight;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * A loaded snapshot, over libpreflight.so (the C ABI) through JNA. Immutable and thread-safe:
 * check from any number of threads; {@link #close()} once, after the last call.
 *
 * <pre>{@code
 * try (Engine engine = Engine.load("examples/demo-snapshot")) {
 *   String response = engine.checkJson(requestBody);   // the SCIM response resource
 * } catch (PreflightException e) {
 *   System.err.println(e.scimType() + ": " + e.detail());
 * }
 * }</pre>
 */
public final class Engine implements AutoCloseable {
  /** Flags of the C ABI: indent the JSON; explain each violation. */
  public static final int PRETTY = 1;
  public static final int EXPLAIN = 2;
  /** Keep a snapshot that loaded with errors (by default it is refused). */
  public static final int ALLOW_PARTIAL = 1;

  private volatile Pointer handle;  // null once closed

  private Engine(Pointer handle) { this.handle = handle; }

  /** The library's version ("0.1.0"). */
  public static String version() { return Abi.preflight_version(); }

  /** Loads files or directories of IdentityIQ XML and SCIM JSON exports. */
  public static Engine load(String... paths) { return load(List.of(paths), Map.of(), 0); }

  /**
   * Loads with changed budgets ({@code Map.of("max_batch_requests", 100L)}; see the README's
   * Security section) and load flags ({@link #ALLOW_PARTIAL}).
   */
  public static Engine load(List<String> paths, Map<String, Long> limits, int flags) {
    String[] limitArgs = limits.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toArray(String[]::new);
    long[] engine = new long[1];
    long[] out = new long[1];
    int status = Abi.preflight_engine_load(new StringArray(paths.toArray(new String[0]), "UTF-8"), paths.size(),
        limitArgs.length == 0 ? null : new StringArray(limitArgs, "UTF-8"), limitArgs.length, flags, engine, out);
    String text = take(out);
    if (status != 0) throw error(status, text);
    return new Engine(new Pointer(engine[0]));
  }

  /** One CheckedPolicyViolations request body in, the response resource out. */
  public String checkJson(String requestBody) { return checkJson(requestBody, 0); }

  public String checkJson(String requestBody, int flags) {
    byte[] body = requestBody.getBytes(StandardCharsets.UTF_8);
    long[] out = new long[1];
    int status = Abi.preflight_check(handle(), body, body.length, flags, out);
    String text = take(out);
    if (status != 0) throw error(status, text);
    return text;
  }

  /**
   * Many request bodies in one call: a JSON array with, for each request in order, its
   * response or its SCIM Error resource. Throws only when the batch cannot run (too many).
   */
  public String checkBatchJson(List<String> requestBodies) { return checkBatchJson(requestBodies, 0); }

  public String checkBatchJson(List<String> requestBodies, int flags) {
    int n = requestBodies.size();
    long[] lengths = new long[n];
    byte[][] bodies = new byte[n][];
    long total = 0;
    for (int i = 0; i < n; ++i) {
      bodies[i] = requestBodies.get(i).getBytes(StandardCharsets.UTF_8);
      lengths[i] = bodies[i].length;
      total += bodies[i].length;
    }
    // One block for the bodies and one for the pointers to them.
    Memory data = new Memory(Math.max(1, total));
    Memory pointers = new Memory(Math.max(1, (long) n * Native.POINTER_SIZE));
    long offset = 0;
    for (int i = 0; i < n; ++i) {
      data.write(offset, bodies[i], 0, bodies[i].length);
      pointers.setPointer((long) i * Native.POINTER_SIZE, data.share(offset));
      offset += bodies[i].length;
    }
    long[] out = new long[1];
    int status = Abi.preflight_check_batch(handle(), pointers, lengths, n, flags, null, out);
    String text = take(out);
    if (status != 0) throw error(status, text);
    return text;
  }

  /**
   * A SCIM query over one resource type (Users, Accounts, Entitlements, Roles, Applications):
   * the ListResponse. {@code filter} may be null (every resource).
   */
  public String query(String resourceType, String filter) {
    return query(resourceType, filter, null, null, null, null, -1, -1);
  }

  /**
   * The same with RFC 7644's other parameters; null (or a negative index or count) leaves one
   * out. {@code attributes} and {@code excludedAttributes} are comma-separated names;
   * {@code sortOrder} is "ascending" or "descending".
   */
  public String query(String resourceType, String filter, String attributes, String excludedAttributes,
                      String sortBy, String sortOrder, long startIndex, long count) {
    long[] out = new long[1];
    int status = Abi.preflight_query(handle(), resourceType, filter, attributes, excludedAttributes, sortBy,
        sortOrder, startIndex, count, out);
    String text = take(out);
    if (status != 0) throw error(status, text);
    return text;
  }

  /** The snapshot's counts, memory, load times and diagnostics. */
  public String statsJson() {
    long[] out = new long[1];
    int status = Abi.preflight_stats(handle(), 0, out);
    String text = take(out);
    if (status != 0) throw error(status, text);
    return text;
  }

  /** Releases the snapshot. Idempotent; not concurrently with calls on this engine. */
  @Override
  public synchronized void close() {
    if (handle != null) {
      Abi.preflight_engine_free(handle);
      handle = null;
    }
  }

  Pointer handle() {
    Pointer h = handle;
    if (h == null) throw new IllegalStateException("the engine is closed");
    return h;
  }

  static String take(long[] out) {
    if (out[0] == 0) return null;
    Pointer p = new Pointer(out[0]);
    try {
      return p.getString(0, "UTF-8");
    } finally {
      Abi.preflight_string_free(p);
    }
  }

  static PreflightException error(int status, String json) {
    String scimType = Abi.preflight_status_scim_type(status);
    String detail = json == null ? "out of memory" : JsonText.field(json, "detail");
    return new PreflightException(status, scimType, detail == null ? json : detail, json);
  }
}
