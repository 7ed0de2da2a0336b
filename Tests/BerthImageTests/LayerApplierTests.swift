import BerthCore
import BerthOCI
import BerthTestSupport
import CXattr
import Foundation
import Glibc
import Testing
@testable import BerthImage

@Suite(.requiresRoot) struct LayerApplierTests {
    @Test(arguments: [LayerCompression.none, .gzip, .zstd])
    func appliesEntryKindsAndMetadata(_ compression: LayerCompression) throws {
        let box = try UnpackSandbox()
        var tar = TarBuilder()
        tar.directory("etc/", mode: 0o750, uid: 7, gid: 8, mtime: 1_600_000_000)
        tar.file("etc/hosts", "127.0.0.1 localhost\n", mode: 0o4755, uid: 1000, gid: 1001, mtime: 1_500_000_000)
        tar.symlink("etc/link", to: "/etc/hosts", uid: 5, gid: 6)
        tar.hardlink("etc/hard", to: "etc/hosts")
        tar.directory("tmp/", mode: 0o1777)
        tar.fifo("tmp/fifo", mode: 0o640)
        tar.characterDevice("null", major: 1, minor: 3)
        tar.pax([("SCHILY.xattr.user.color", "blue"), ("mtime", "1400000000.25")])
        tar.file("x", "xattr")
        tar.file("implicit/parent/file", "p")
        let reports = try box.apply([tar.finished()], compression: compression)

        #expect(box.read("etc/hosts") == "127.0.0.1 localhost\n")
        let hosts = try #require(box.lstat("etc/hosts"))
        #expect(hosts.st_mode & 0o7777 == 0o4755)
        #expect(hosts.st_uid == 1000 && hosts.st_gid == 1001)
        #expect(hosts.st_mtim.tv_sec == 1_500_000_000)
        #expect(hosts.st_nlink == 2)
        let etc = try #require(box.lstat("etc"))
        #expect(etc.st_mode & 0o7777 == 0o750 && etc.st_uid == 7 && etc.st_gid == 8)
        #expect(etc.st_mtim.tv_sec == 1_600_000_000, "directory times are set after the entries inside")
        #expect(box.link("etc/link") == "/etc/hosts")
        let link = try #require(box.lstat("etc/link"))
        #expect(link.st_uid == 5 && link.st_gid == 6)
        #expect(box.lstat("etc/hard")?.st_ino == hosts.st_ino)
        #expect(box.lstat("tmp").map { $0.st_mode & 0o7777 } == 0o1777)
        #expect(box.lstat("tmp/fifo").map { $0.st_mode & S_IFMT == S_IFIFO && $0.st_mode & 0o7777 == 0o640 } == true)
        if let null = box.lstat("null") {
            #expect(null.st_mode & S_IFMT == S_IFCHR && null.st_rdev == LayerApplier.deviceNumber(major: 1, minor: 3))
        } else {
            #expect(reports[0].warnings.contains { $0.contains("null") }, "a device not created is reported")
        }
        let x = try #require(box.lstat("x"))
        #expect(x.st_mtim.tv_sec == 1_400_000_000 && x.st_mtim.tv_nsec == 250_000_000)
        var value = [UInt8](repeating: 0, count: 16)
        let length = getxattr(box.root + "/x", "user.color", &value, value.count)
        if length >= 0 {
            #expect(String(decoding: value.prefix(length), as: UTF8.self) == "blue")
        } else {
            #expect(reports[0].warnings.contains { $0.contains("user.color") })
        }
        #expect(box.read("implicit/parent/file") == "p")
        #expect(box.lstat("implicit").map { $0.st_mode & 0o777 } == 0o755)
        #expect(reports[0].entries == 9)  // the pax header is not an entry
        #expect(reports[0].bytesWritten == Int64("127.0.0.1 localhost\n".utf8.count + "xattr".utf8.count + 1))
    }

    @Test func hardlinkIntoAnEarlierLayer() throws {
        let box = try UnpackSandbox()
        var lower = TarBuilder()
        lower.file("bin/tool", "binary", mode: 0o755)
        var upper = TarBuilder()
        upper.hardlink("usr/bin/tool", to: "/bin/tool")
        try box.apply([lower.finished(), upper.finished()])
        #expect(box.lstat("usr/bin/tool")?.st_ino == box.lstat("bin/tool")?.st_ino)
    }

    /// The agent applies each layer onto an overlayfs merged mount of the ones below: deletions
    /// there must become overlay whiteouts in the upper directory, not fail.
    @Test func appliesOntoAnOverlayMount() throws {
        let box = try UnpackSandbox()
        let lower = box.scratch.path + "/lower", upper = box.scratch.path + "/upper", work = box.scratch.path + "/work"
        for directory in [lower, upper, work] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        }
        try Compressor.shell("mkdir -p '\(lower)/app/sub' && echo old > '\(lower)/app/old' && echo gone > '\(lower)/gone' && echo d > '\(lower)/app/sub/deep'")
        try Compressor.shell("mount -t overlay overlay -o lowerdir='\(lower)',upperdir='\(upper)',workdir='\(work)' '\(box.root)'")
        defer { _ = try? Compressor.shell("umount '\(box.root)'") }
        var tar = TarBuilder()
        tar.file(".wh.gone")
        tar.directory("app/")
        tar.file("app/.wh..wh..opq")
        tar.file("app/new", "new")
        try box.apply([tar.finished()])
        #expect(!box.exists("gone") && !box.exists("app/old") && !box.exists("app/sub"))
        #expect(box.read("app/new") == "new")
        var info = stat()
        #expect(Glibc.lstat(upper + "/gone", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0,
                "an overlay whiteout in the upper directory")
        #expect(FileManager.default.fileExists(atPath: lower + "/gone"), "the lower layer is untouched")
    }

    @Test func aFullDiskSaysSo() throws {
        let box = try UnpackSandbox()
        try Compressor.shell("mount -t tmpfs -o size=1m berth-unpack-test '\(box.root)'")
        defer { _ = try? Compressor.shell("umount '\(box.root)'") }
        var tar = TarBuilder()
        tar.file("big", bytes: [UInt8](repeating: 7, count: 3 << 20))
        do {
            try box.apply([tar.finished()], compression: .gzip)
            Issue.record("3 MiB fit on a 1 MiB tmpfs")
        } catch let error as BerthError {
            #expect(error.message.hasPrefix("disk full while unpacking image 127.0.0.1:5000/test:1, layer 1/1"), "\(error.message)")
            #expect(error.message.contains("entry \"big\": write: ENOSPC"), "\(error.message)")
        }
    }

    @Test func absoluteHardlinkTargetsNameTheImagesFile() throws {
        let box = try UnpackSandbox()
        var lower = TarBuilder()
        lower.file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
        var upper = TarBuilder()
        upper.hardlink("passwd-link", to: "/etc/passwd")
        try box.apply([lower.finished(), upper.finished()])
        #expect(box.lstat("passwd-link")?.st_ino == box.lstat("etc/passwd")?.st_ino)
        var host = stat()
        #expect(Glibc.lstat("/etc/passwd", &host) == 0 && host.st_ino != box.lstat("passwd-link")?.st_ino)
    }

    @Test func whiteoutsDeleteLowerEntries() throws {
        let box = try UnpackSandbox()
        var lower = TarBuilder()
        lower.file("etc/a", "a")
        lower.file("etc/b", "b")
        lower.file("var/lib/db/x", "x")
        lower.file("keep", "k")
        var upper = TarBuilder()
        upper.file("etc/.wh.a")
        upper.file("var/lib/.wh.db")
        upper.file("keep", "new")
        upper.file(".wh.keep")  // whiteouts spare this layer's own entries
        try box.apply([lower.finished(), upper.finished()])
        #expect(!box.exists("etc/a") && box.read("etc/b") == "b")
        #expect(!box.exists("var/lib/db") && box.exists("var/lib"))
        #expect(box.read("keep") == "new")
        #expect(!box.exists("etc/.wh.a") && !box.exists(".wh.keep"))
    }

    @Test func opaqueDirectoryAfterASiblingOfItsLayer() throws {
        let box = try UnpackSandbox()
        var lower = TarBuilder()
        lower.file("app/old", "old")
        lower.file("app/sub/deep", "deep")
        lower.file("app/sub/lowerkept", "l")
        lower.file("other/file", "o")
        var upper = TarBuilder()
        upper.directory("app/")
        upper.file("app/new", "new")  // before the marker: must survive it
        upper.directory("app/sub/")
        upper.file("app/.wh..wh..opq")
        upper.file("app/later", "later")
        try box.apply([lower.finished(), upper.finished()])
        #expect(box.read("app/new") == "new" && box.read("app/later") == "later")
        #expect(!box.exists("app/old"))
        #expect(box.exists("app/sub") && !box.exists("app/sub/deep") && !box.exists("app/sub/lowerkept"))
        #expect(!box.exists("app/.wh..wh..opq"))
        #expect(box.read("other/file") == "o")
    }

    @Test func entriesReplaceWhatIsThere() throws {
        let box = try UnpackSandbox()
        var lower = TarBuilder()
        lower.file("dir-becomes-file/inner", "i")
        lower.file("file-becomes-dir", "f")
        lower.directory("dir-stays/", mode: 0o700)
        lower.file("dir-stays/child", "c")
        lower.symlink("link-becomes-file", to: "/etc")
        var upper = TarBuilder()
        upper.file("dir-becomes-file", "now a file")
        upper.directory("file-becomes-dir/")
        upper.file("file-becomes-dir/inner", "inner")
        upper.directory("dir-stays/", mode: 0o755)
        upper.file("link-becomes-file", "plain")
        try box.apply([lower.finished(), upper.finished()])
        #expect(box.read("dir-becomes-file") == "now a file")
        #expect(box.read("file-becomes-dir/inner") == "inner")
        #expect(box.read("dir-stays/child") == "c", "a directory over a directory keeps its children")
        #expect(box.lstat("dir-stays").map { $0.st_mode & 0o777 } == 0o755)
        #expect(box.link("link-becomes-file") == nil && box.read("link-becomes-file") == "plain")
    }

    @Test func symlinksInsideTheRootAreFollowedWithinIt() throws {
        let box = try UnpackSandbox()
        var lower = TarBuilder()
        lower.directory("usr/lib/")
        lower.symlink("lib", to: "/usr/lib")
        lower.symlink("rel", to: "usr/../usr/lib")
        var upper = TarBuilder()
        upper.file("lib/a.so", "a")
        upper.file("rel/b.so", "b")
        try box.apply([lower.finished(), upper.finished()])
        #expect(box.read("usr/lib/a.so") == "a" && box.read("usr/lib/b.so") == "b")
        #expect(box.outsideUntouched)
    }
}
