/// Berth's version: what `berth --version` prints and registries see in the User-Agent.
public enum BerthVersion {
    public static let current = "0.1.0"
}
