import BerthCore
import Testing

/// Where a JSON text first goes wrong, as error messages name it.
struct JSONSyntaxTests {
    @Test(arguments: [
        "{}", "[]", "0", "-1.5e+3", "\"text\"", "true", "false", "null", " \n\t{ \"a\" : [1, 2.0, {\"b\": null}], \"c\": \"\\u00e9\\n\" } \r\n",
        "[[[[[]]]]]", "{\"é\": \"ü\"}",
    ])
    func acceptsJSON(_ text: String) {
        #expect(JSONSyntax.firstError(in: Array(text.utf8)) == nil, "\(text)")
    }

    @Test(arguments: [
        ("", "Unexpected end of file"),
        ("{", "Unexpected end of file"),
        ("{\"a\": 1", "Unexpected end of file"),
        ("\"open", "Unexpected end of file"),
        ("{\"a\": 1,, }", "Unexpected character ',' at line 1, column 9"),
        ("{\"a\" 1}", "Unexpected character '1' at line 1, column 6"),
        ("[1, 2]]", "Unexpected character ']' at line 1, column 7"),
        ("{\n  \"a\": [1,\n  2,]\n}", "Unexpected character ']' at line 3, column 5"),
        ("{\"é\": x}", "Unexpected character 'x' at line 1, column 7"),
        ("01", "Unexpected character '1' at line 1, column 2"),
        ("1.", "Unexpected end of file"),
        ("tru", "Unexpected end of file"),
        ("nul!", "Unexpected character '!' at line 1, column 4"),
        ("\"a\\x\"", "Unexpected character 'x' at line 1, column 4"),
        ("\"a\\u12g4\"", "Unexpected character 'g' at line 1, column 7"),
        ("\"tab\there\"", "Unexpected character byte 9 at line 1, column 5"),
        ("{'a': 1}", "Unexpected character ''' at line 1, column 2"),
    ])
    func namesWhereItBreaks(_ text: String, _ message: String) {
        #expect(JSONSyntax.firstError(in: Array(text.utf8)) == message, "\(text)")
    }

    @Test func refusesNestingBeyondItsLimit() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(JSONSyntax.firstError(in: Array(deep.utf8)) == "Nesting deeper than 512 levels")
    }
}
