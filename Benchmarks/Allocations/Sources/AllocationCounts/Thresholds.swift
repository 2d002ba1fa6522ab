import FoundationEssentials

/// `thresholds.json`: for each scenario the highest allocation count per request that passes,
/// and the goal shown beside it.
struct Thresholds: Codable {
    struct Entry: Codable {
        var threshold: Double
        var goal: Double?
    }

    var about: String?
    var scenarios: [String: Entry]

    static func load(from path: String) throws -> Thresholds {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(Thresholds.self, from: data)
    }

    /// Today's count with a margin, so that a small change to the server lands without editing
    /// this file while a real regression (a new allocation on every request) still fails:
    /// +5 %, at least +1, rounded up to a whole count.
    static func threshold(for count: Double) -> Double {
        max((count * 1.05).rounded(.up), (count + 1).rounded(.up))
    }

    /// Written by hand rather than with `JSONEncoder`: scenarios stay in the table's order and
    /// whole counts print without a fraction, so a deliberate update reads as a small diff.
    func write(to path: String, order: [String]) throws {
        var lines = ["{"]
        if let about { lines.append("  \"about\": \(quoted(about)),") }
        lines.append("  \"scenarios\": {")
        let names = order.filter { scenarios[$0] != nil }
        for (index, name) in names.enumerated() {
            let entry = scenarios[name]!
            var fields = ["\"threshold\": \(number(entry.threshold))"]
            if let goal = entry.goal { fields.append("\"goal\": \(number(goal))") }
            let comma = index == names.count - 1 ? "" : ","
            lines.append("    \(quoted(name)): { \(fields.joined(separator: ", ")) }\(comma)")
        }
        lines.append("  }")
        lines.append("}")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }

    private func quoted(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = try! encoder.encode(text)
        return String(decoding: data, as: UTF8.self)
    }

    private func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
