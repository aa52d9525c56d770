package preflight;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.util.Map;

/** The C ABI (preflight/preflight.h), one method per function. Strings out are char **. */
interface NativeLibrary extends Library {
  NativeLibrary INSTANCE =
      Native.load("preflight", NativeLibrary.class, Map.of(Library.OPTION_STRING_ENCODING, "UTF-8"));

  void preflight_string_free(Pointer s);

  String preflight_version();

  String preflight_status_scim_type(int status);

  int preflight_engine_load(String[] paths, long nPaths, String[] limits, long nLimits, int flags,
                            PointerByReference engineOut, PointerByReference out);

  void preflight_engine_free(Pointer engine);

  int preflight_check(Pointer engine, byte[] request, long len, int flags, PointerByReference out);

  int preflight_check_batch(Pointer engine, Pointer requests, long[] lengths, long n, int flags, int[] statuses,
                            PointerByReference out);
}
