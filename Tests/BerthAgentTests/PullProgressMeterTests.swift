@testable import BerthAgent
import BerthCore
import BerthImage
import BerthOCI
import Testing

@Suite struct PullProgressMeterTests {
    @Test func linesSumTheLayersAndComeAtMostOncePerInterval() throws {
        let a = try Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
        let b = try Digest(parsing: "sha256:" + String(repeating: "b", count: 64))
        let meter = PullProgressMeter(image: "web:1", interval: .seconds(2))
        let start = ContinuousClock.now
        let layers = [Descriptor(mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: a, size: 3 << 20),
                      Descriptor(mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: b, size: 1 << 20)]
        // The manifest alone says nothing worth a status update yet.
        #expect(meter.record(.resolved(manifest: a, layers: layers), now: start) == nil)
        #expect(meter.record(.layerSkipped(b, size: 1 << 20), now: start) == "pulling image web:1: 1 MiB of 4 MiB, 1 of 2 layers")
        #expect(meter.record(.layerBytes(a, received: 1 << 20, size: 3 << 20), now: start + .seconds(1)) == nil)
        #expect(meter.record(.layerBytes(a, received: 2 << 20, size: 3 << 20), now: start + .seconds(2))
            == "pulling image web:1: 3 MiB of 4 MiB, 1 of 2 layers")
        #expect(meter.record(.layerDone(a, size: 3 << 20), now: start + .seconds(3)) == nil)
        #expect(meter.record(.layerDone(a, size: 3 << 20), now: start + .seconds(5)) == "pulling image web:1: 4 MiB of 4 MiB, 2 of 2 layers")
    }
}
