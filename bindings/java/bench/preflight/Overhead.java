package preflight;

import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * What the Java binding adds to a check: Engine.checkJson called N times (JNA, UTF-8 both
 * ways), median of the runs, after a JIT warm-up; in thread CPU time, as the C++ side. Run by benchmarks/embed_overhead.sh.
 */
public final class Overhead {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20000;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 7;
    String body = Files.readString(Path.of("examples/request.json"));
    try (Engine engine = Engine.load("examples/demo-snapshot")) {
      long sink = 0;
      for (int i = 0; i < 3 * n; ++i) sink += engine.checkJson(body).length();  // warm-up (JIT)
      ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
      double[] ns = new double[runs];
      for (int r = 0; r < runs; ++r) {
        long start = cpu.getCurrentThreadCpuTime();
        for (int i = 0; i < n; ++i) sink += engine.checkJson(body).length();
        ns[r] = (cpu.getCurrentThreadCpuTime() - start) / (double) n;
      }
      Arrays.sort(ns);
      System.out.printf("Java Engine.checkJson      %8.0f ns per check%n", ns[runs / 2]);
      if (sink == 0) System.exit(1);
    }
  }
}
