import Foundation

/// Order statistics of one series. Medians and percentiles rather than means: a container start
/// on a shared machine has a long right tail that a mean would smear over everything.
struct Summary {
    let count: Int
    let median: Double
    /// Nearest-rank 90th percentile.
    let p90: Double
    let min: Double
    let max: Double

    init?(_ samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        let n = sorted.count
        count = n
        median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        let rank = Int((0.9 * Double(n)).rounded(.up))
        p90 = sorted[Swift.max(0, Swift.min(n - 1, rank - 1))]
        min = sorted[0]
        max = sorted[n - 1]
    }
}

/// Collects `key=value` lines and prints them in the order they were added.
struct Report {
    private(set) var lines: [String] = []

    mutating func add(_ key: String, _ value: String) {
        lines.append("\(key)=\(value)")
    }

    mutating func add(_ key: String, milliseconds value: Double) {
        add(key, String(format: "%.2f", value))
    }

    mutating func add(_ key: String, _ value: Int) {
        add(key, String(value))
    }

    /// `prefix_median_ms`, `prefix_p90_ms`, `prefix_min_ms`, `prefix_max_ms`.
    mutating func add(series prefix: String, _ summary: Summary) {
        add("\(prefix)_median_ms", milliseconds: summary.median)
        add("\(prefix)_p90_ms", milliseconds: summary.p90)
        add("\(prefix)_min_ms", milliseconds: summary.min)
        add("\(prefix)_max_ms", milliseconds: summary.max)
    }

    func print() {
        for line in lines { Swift.print(line) }
    }
}
