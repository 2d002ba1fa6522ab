#if canImport(Glibc)
    import Glibc
#endif

func format(_ value: Double, decimals: Int = 2) -> String {
    let scale = (0..<decimals).reduce(1) { result, _ in result * 10 }
    let scaled = Int((abs(value) * Double(scale)).rounded())
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard decimals > 0 else { return sign + String(scaled) }
    let fraction = String(scaled % scale)
    return sign + String(scaled / scale) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}

private func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return left ? text + fill : fill + text
}

/// Prints the table and compares each count with its threshold; returns the exit status.
func report(_ rows: [Row], options: Options) -> Int32 {
    let thresholds: Thresholds
    do {
        thresholds = try Thresholds.load(from: options.thresholdsPath)
    } catch {
        fail("cannot read \(options.thresholdsPath): \(error)")
    }

    let header = [
        pad("request", 30, left: true), pad("allocs", 8), pad("bytes", 8), pad("threshold", 11),
        pad("goal", 7), "  result",
    ]
    output(header.joined())
    var above: [String] = []
    var missing: [String] = []
    for row in rows {
        let entry = thresholds.scenarios[row.name]
        let count = row.measurement.mallocs
        let result: String
        switch entry?.threshold {
        case nil:
            result = "no threshold"
            missing.append(row.name)
        case let threshold? where count > threshold:
            result = "ABOVE THRESHOLD"
            above.append(row.name)
        case let threshold?:
            // Exact counts make a drop real: say so, so that the threshold follows it down.
            result = Thresholds.threshold(for: count) < threshold ? "ok (lower the threshold?)" : "ok"
        }
        output(
            [
                pad(row.title, 30, left: true), pad(format(count), 8),
                pad(format(row.measurement.bytes, decimals: 0), 8),
                pad(entry.map { format($0.threshold, decimals: 0) } ?? "—", 11),
                pad(entry?.goal.map { "≤ " + format($0, decimals: 0) } ?? "—", 7), "  ", result,
            ].joined())
    }

    if options.verbose {
        output("\nAllocations of each batch of \(options.batchSize) requests (- for a batch left out):")
        for row in rows {
            let measurement = row.measurement
            output(
                "\(row.title): \(measurement.cleanBatches) of \(measurement.batches) batches clean, "
                    + "largest − smallest \(format(measurement.spread)) per request")
            if !measurement.batchCounts.isEmpty {
                output("  " + measurement.batchCounts.map { $0.map(String.init) ?? "-" }.joined(separator: " "))
            }
        }
    }

    if options.writeThresholds {
        var updated = thresholds
        for row in rows {
            let goal = thresholds.scenarios[row.name]?.goal
            updated.scenarios[row.name] = .init(
                threshold: Thresholds.threshold(for: row.measurement.mallocs), goal: goal)
        }
        do {
            try updated.write(to: options.thresholdsPath, order: rows.map(\.name))
        } catch {
            fail("cannot write \(options.thresholdsPath): \(error)")
        }
        output("\nwrote \(options.thresholdsPath): today's counts + 5 % (at least + 1), rounded up")
        return 0
    }
    if !missing.isEmpty {
        output("\nno threshold for \(missing.joined(separator: ", ")) in \(options.thresholdsPath)")
        return 1
    }
    if !above.isEmpty {
        output("\nabove the threshold: \(above.joined(separator: ", ")). Find the new allocation with --sites;")
        output("raise a threshold only on purpose (--write-thresholds, then commit the file with the reason).")
        return 1
    }
    return 0
}
