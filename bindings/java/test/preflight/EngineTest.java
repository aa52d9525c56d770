package preflight;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** The Java binding on the demo snapshot and on bad input. No test framework: java -ea runs it. */
public final class EngineTest {
  private static int failures = 0;

  private static void expect(boolean ok, String what) {
    if (!ok) {
      ++failures;
      System.err.println("FAILED: " + what);
    }
  }

  private static PreflightException expectThrows(Runnable r, String what) {
    try {
      r.run();
    } catch (PreflightException e) {
      return e;
    }
    expect(false, what + " did not throw");
    return null;
  }

  @SuppressWarnings("try")  // closes an engine twice on purpose
  public static void main(String[] args) throws Exception {
    Path examples = Path.of(args[0]);
    String snapshot = examples.resolve("demo-snapshot").toString();
    String body = Files.readString(examples.resolve("request.json"));

    expect(Engine.version().equals("0.1.0"), "version");

    try (Engine engine = Engine.load(snapshot)) {
      String response = engine.checkJson(body);
      expect(response.contains("\"constraintName\":\"IT SOD-117\""), "check: " + response);
      expect(engine.checkJson(body, Engine.PRETTY).contains("\"constraintName\": \"IT SOD-117\""), "pretty");

      PreflightException e = expectThrows(() -> engine.checkJson("{\"identity\": "), "malformed JSON");
      expect(e != null && e.scimType().equals("invalidSyntax") && e.status() == 2, "invalidSyntax");
      expect(e != null && e.json().contains("urn:ietf:params:scim:api:messages:2.0:Error"), "SCIM Error json");
      e = expectThrows(() -> engine.checkJson(body.replace("Ryan.Russell", "Nobody.Here")), "unknown identity");
      expect(e != null && e.scimType().equals("invalidValue") && e.detail().contains("Nobody.Here"),
          "unknown identity: " + (e == null ? "" : e.detail()));
      // Text outside ASCII goes through as UTF-8 and comes back in the detail.
      e = expectThrows(() -> engine.checkJson(body.replace("Ryan.Russell", "Zoë.Ünknown")), "UTF-8 identity");
      expect(e != null && e.detail().contains("Zoë.Ünknown"), "UTF-8 detail: " + (e == null ? "" : e.detail()));

      String batch = engine.checkBatchJson(List.of(body, "not json", body));
      expect(batch.startsWith("[") && batch.contains("invalidSyntax") && batch.split("IT SOD-117", -1).length == 3,
          "batch: " + batch);
      expect(engine.checkBatchJson(List.of()).equals("[]"), "empty batch");

      String users = engine.query("Users", "userName sw \"R\"");
      expect(users.contains("\"totalResults\":1") && users.contains("Ryan.Russell"), "query: " + users);
      String page = engine.query("Users", null, "userName", null, "userName", "descending", 1, 1);
      expect(page.contains("\"itemsPerPage\":1") && page.contains("Ryan.Russell"), "query page: " + page);
      e = expectThrows(() -> engine.query("Users", "userName eq"), "bad filter");
      expect(e != null && e.scimType().equals("invalidFilter"), "invalidFilter");
      expect(engine.statsJson().contains("\"identities\":2"), "stats");

      // Many threads on one engine.
      AtomicInteger bad = new AtomicInteger();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 8; ++t) {
        Thread thread = new Thread(() -> {
          for (int i = 0; i < 200; ++i) {
            if (!engine.checkJson(body).contains("IT SOD-117")) bad.incrementAndGet();
          }
        });
        threads.add(thread);
        thread.start();
      }
      for (Thread thread : threads) thread.join();
      expect(bad.get() == 0, "threads");

      engine.close();
      engine.close();
      try {
        engine.checkJson(body);
        expect(false, "a closed engine checks");
      } catch (IllegalStateException expected) {
        // as documented
      }
    }

    PreflightException e = expectThrows(() -> Engine.load("/nonexistent/snapshot"), "missing snapshot");
    expect(e != null && e.status() == 8 && e.scimType().equals("invalidValue"), "missing snapshot");
    e = expectThrows(() -> Engine.load(List.of(snapshot), Map.of("max_widgets", 1L), 0), "unknown limit");
    expect(e != null && e.detail().contains("max_widgets"), "unknown limit");
    try (Engine small = Engine.load(List.of(snapshot), Map.of("max_batch_requests", 2L), 0)) {
      e = expectThrows(() -> small.checkBatchJson(List.of(body, body, body)), "batch over the limit");
      expect(e != null && e.scimType().equals("tooMany"), "tooMany");
    }

    if (failures > 0) {
      System.err.println(failures + " failure(s)");
      System.exit(1);
    }
    System.out.println("EngineTest: all passed");
  }
}
