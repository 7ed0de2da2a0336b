import Prometheus

/// Figures in Mesos' shape: `GET /metrics/snapshot` answers the flat JSON object of metric name
/// → number, `GET /metrics` renders the same in Prometheus' text format, with per-container
/// series (which need labels, so they have no flat name) added there.
public struct MetricsSnapshot: Sendable {
    public var values: [String: Double]
    /// Keys that only grow: Prometheus counters. Every other key is a gauge.
    public var counters: Set<String>
    public var labeled: [LabeledSample]

    /// A Prometheus-only series: `berth_`-prefixed name, its labels and value.
    public struct LabeledSample: Sendable {
        public var name: String
        public var help: String
        public var labels: [(String, String)]
        public var value: Double
        public var isCounter: Bool

        public init(name: String, help: String, labels: [(String, String)], value: Double, isCounter: Bool = false) {
            self.name = name
            self.help = help
            self.labels = labels
            self.value = value
            self.isCounter = isCounter
        }
    }

    public init(values: [String: Double], counters: Set<String>, labeled: [LabeledSample] = []) {
        self.values = values
        self.counters = counters
        self.labeled = labeled
    }

    /// `master/cpus_total` → `berth_master_cpus_total`: Prometheus names allow [a-zA-Z0-9_:] only.
    public static func prometheusName(_ key: String) -> String {
        "berth_" + String(key.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    /// The text exposition format, through swift-prometheus. A registry of its own per call, so
    /// the output is exactly this snapshot even when two scrapes overlap.
    public func prometheusText() -> String {
        let registry = PrometheusCollectorRegistry()
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            let name = Self.prometheusName(key)
            let help = "Mesos metric \(key)"
            let descriptor = MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
            if counters.contains(key) {
                registry.makeCounter(descriptor: descriptor).increment(by: value)
            } else {
                registry.makeGauge(descriptor: descriptor).set(value)
            }
        }
        for sample in labeled {
            let descriptor = MetricNameDescriptor(metricName: sample.name, unitName: "", helpText: sample.help)
            if sample.isCounter {
                registry.makeCounter(descriptor: descriptor, labels: sample.labels).increment(by: sample.value)
            } else {
                registry.makeGauge(descriptor: descriptor, labels: sample.labels).set(sample.value)
            }
        }
        return registry.emitToString()
    }
}
