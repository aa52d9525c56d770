import java.nio.file.Files;
import java.nio.file.Path;
import preflight.Engine;
import preflight.PreflightException;

/** Load the demo snapshot and answer examples/request.json through the Java binding. */
public class Check {
  public static void main(String[] args) throws Exception {
    String body = Files.readString(Path.of("examples/request.json"));
    try (Engine engine = Engine.load("examples/demo-snapshot")) {
      System.out.println(engine.checkJson(body));
      System.out.println(engine.query("Users", "userName sw \"R\"", "userName", null, null, null, -1, -1));
      engine.checkJson("{\"identity\": \"Ryan.Russell\"");  // malformed: throws
    } catch (PreflightException e) {
      System.out.println(e.scimType() + ": " + e.detail());
    }
  }
}
