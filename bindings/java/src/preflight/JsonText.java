package preflight;

/** Reads one string field of a flat JSON object: enough for a SCIM Error, without a JSON library. */
final class JsonText {
  private JsonText() {}

  static String field(String json, String name) {
    String key = "\"" + name + "\":";
    int at = json.indexOf(key);
    if (at < 0) return null;
    int i = at + key.length();
    while (i < json.length() && Character.isWhitespace(json.charAt(i))) ++i;
    if (i >= json.length() || json.charAt(i) != '"') return null;
    StringBuilder s = new StringBuilder();
    for (++i; i < json.length(); ++i) {
      char c = json.charAt(i);
      if (c == '"') return s.toString();
      if (c != '\\' || i + 1 >= json.length()) {
        s.append(c);
        continue;
      }
      char e = json.charAt(++i);
      switch (e) {
        case 'n': s.append('\n'); break;
        case 't': s.append('\t'); break;
        case 'r': s.append('\r'); break;
        case 'b': s.append('\b'); break;
        case 'f': s.append('\f'); break;
        case 'u':
          if (i + 4 < json.length()) {
            s.append((char) Integer.parseInt(json.substring(i + 1, i + 5), 16));
            i += 4;
          }
          break;
        default: s.append(e);  // \" \\ \/
      }
    }
    return null;
  }
}
