package preflight;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.util.Map;

/**
 * The C ABI (preflight/preflight.h), one static method per function, bound with JNA's direct
 * mapping (much cheaper per call than an interface proxy). size_t is long (64-bit platforms);
 * a char ** (or handle **) that receives a pointer is a long[1] (no native allocation per call,
 * unlike PointerByReference); arrays of strings are StringArray.
 */
final class Abi {
  static {
    Native.register(Abi.class,
        NativeLibrary.getInstance("preflight", Map.of(Library.OPTION_STRING_ENCODING, "UTF-8")));
  }

  private Abi() {}

  static native void preflight_string_free(Pointer s);

  static native String preflight_version();

  static native String preflight_status_scim_type(int status);

  static native int preflight_engine_load(Pointer paths, long nPaths, Pointer limits, long nLimits, int flags,
                                          long[] engineOut, long[] out);

  static native void preflight_engine_free(Pointer engine);

  static native int preflight_check(Pointer engine, byte[] request, long len, int flags, long[] out);

  static native int preflight_check_batch(Pointer engine, Pointer requests, long[] lengths, long n, int flags,
                                          int[] statuses, long[] out);

  static native int preflight_query(Pointer engine, String resourceType, String filter, String attributes,
                                    String excludedAttributes, String sortBy, String sortOrder, long startIndex,
                                    long count, long[] out);

  static native int preflight_stats(Pointer engine, int flags, long[] out);
}
