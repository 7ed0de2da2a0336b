/// Header names shared by both ends of the wire.
public enum ProtocolHeaders {
    /// Names a SUBSCRIBE (or agent REGISTER) stream; every later call must carry it.
    public static let streamID = "Mesos-Stream-Id"
}

/// The Mesos release whose scheduler API Berth speaks; clients read it from `GET /version`.
public enum MesosAPIVersion {
    public static let current = "1.11.0"
}
