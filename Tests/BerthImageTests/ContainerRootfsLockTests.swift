import BerthCore
import BerthOCI
import Foundation
import Logging
import Testing
@testable import BerthImage

/// A container's rootfs directory is known to be in use by the lock on its `lock` file, which also
/// records the image and snapshots it runs from; directories of earlier versions keep that record
/// in a `meta.json` beside the lock.
@Suite struct ContainerRootfsLockTests {
    let home: BerthHome
    let snapshot: Snapshot

    init() throws {
        home = BerthHome(root: FileManager.default.temporaryDirectory.path + "/berth-rootfs-lock-\(UUID().uuidString)")
        let layer = home.root + "/layer"
        try FileManager.default.createDirectory(atPath: layer, withIntermediateDirectories: true)
        try Data("x\n".utf8).write(to: URL(fileURLWithPath: layer + "/file"))
        let chain = try Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
        snapshot = Snapshot(chainID: chain, diffID: chain, parent: nil, path: layer, bytes: 2)
    }

    @Test func aLiveContainersImageAndSnapshotsAreInUseAndItsDirectoryStays() throws {
        defer { try? FileManager.default.removeItem(atPath: home.root) }
        let rootfs = try ContainerRootfs.create(containerID: "c1", image: "example/app:1", snapshots: [snapshot], driver: .copy, home: home)
        #expect(!FileManager.default.fileExists(atPath: rootfs.directory + "/meta.json"), "the record is in the lock file")
        #expect(try ContainerRootfs.imagesInUse(home: home) == ["example/app:1"])
        let collected = try ContainerRootfs.collect(home: home, logger: Logger(label: "test"))
        #expect(collected.inUse == [snapshot.chainID])
        #expect(collected.removed == 0)
        #expect(FileManager.default.fileExists(atPath: rootfs.directory + "/rootfs/file"))

        // Its process gone (the lock released), the directory is a leftover. A child that other
        // tests fork meanwhile holds a copy of the descriptor until it execs: hence the retries.
        rootfs.closeLock()
        #expect(try eventually { try ContainerRootfs.imagesInUse(home: home).isEmpty })
        #expect(try eventually { try ContainerRootfs.collect(home: home, logger: Logger(label: "test")).removed == 1 })
        #expect(!FileManager.default.fileExists(atPath: rootfs.directory))
    }

    @Test func aDirectoryFromAnEarlierVersionIsReadFromItsMetaFile() throws {
        defer { try? FileManager.default.removeItem(atPath: home.root) }
        let directory = home.containers + "/old"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lock = try FileLock(path: directory + "/lock")
        let meta = #"{"image":"example/old:1","snapshots":["\#(snapshot.chainID)"],"driver":"copy"}"#
        try Data(meta.utf8).write(to: URL(fileURLWithPath: directory + "/meta.json"))
        #expect(try ContainerRootfs.imagesInUse(home: home) == ["example/old:1"])
        #expect(try ContainerRootfs.collect(home: home, logger: Logger(label: "test")).inUse == [snapshot.chainID])
        withExtendedLifetime(lock) {}
    }

    /// True once `condition` holds, trying for up to 5 s.
    func eventually(_ condition: () throws -> Bool) throws -> Bool {
        for _ in 0..<250 {
            if try condition() { return true }
            usleep(20_000)
        }
        return false
    }
}
