#if canImport(Glibc)
import Glibc
#endif

extension Platform {
    /// The platform of this machine: "linux/amd64" on x86_64, "linux/arm64/v8" on aarch64.
    public static var host: Platform {
        #if arch(x86_64)
        Platform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
        Platform(os: "linux", architecture: "arm64", variant: "v8")
        #elseif arch(arm)
        Platform(os: "linux", architecture: "arm", variant: "v7")
        #elseif arch(s390x)
        Platform(os: "linux", architecture: "s390x")
        #elseif arch(powerpc64le)
        Platform(os: "linux", architecture: "ppc64le")
        #else
        Platform(os: "linux", architecture: "unknown")
        #endif
    }

    /// Parses "os/arch[/variant]", e.g. "linux/arm64" or "linux/arm/v7".
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    /// The spelling containerd compares: Go architecture names, and the default variant made
    /// explicit (arm64 → v8, arm → v7), so "linux/arm64" and "linux/arm64/v8" are one platform.
    public var normalized: Platform {
        var arch = architecture.lowercased()
        var variant = self.variant?.lowercased()
        switch arch {
        case "x86_64", "x86-64": arch = "amd64"
        case "i386", "i486", "i586", "i686": arch = "386"
        case "aarch64", "arm64":
            arch = "arm64"
            if variant == nil || variant == "8" { variant = "v8" }
        case "armhf":
            arch = "arm"; variant = "v7"
        case "armel":
            arch = "arm"; variant = "v6"
        case "arm":
            if variant == nil || variant == "7" { variant = "v7" } else if let v = variant, !v.hasPrefix("v") { variant = "v" + v }
        default: break
        }
        if arch == "amd64", variant == "v1" { variant = nil }
        return Platform(os: os.lowercased(), architecture: arch, variant: variant)
    }

    /// How well `candidate` serves this (wanted) platform: nil when it cannot run here, lower is
    /// better. As containerd's matcher: an exact match first; arm/v7 also runs v6 and v5 images.
    public func matchRank(of candidate: Platform) -> Int? {
        let want = normalized
        let have = candidate.normalized
        guard want.os == have.os, want.architecture == have.architecture else { return nil }
        if want.variant == have.variant { return 0 }
        if want.architecture == "arm", let w = want.armVersion, let h = have.armVersion, h < w {
            return w - h
        }
        return nil
    }

    private var armVersion: Int? {
        guard let variant, variant.hasPrefix("v") else { return nil }
        return Int(variant.dropFirst())
    }
}
