import BerthAllocator
import BerthCore
import BerthProtocol
import Logging

extension Coordinator {
    /// ACCEPT: the offers are used up whatever happens. Tasks on offers that are not (or no
    /// longer) the framework's get TASK_DROPPED (TASK_LOST without PARTITION_AWARE); invalid tasks
    /// get TASK_ERROR; the rest go to the agent as LAUNCH. Unused resources come back, filtered
    /// from this framework for refuse_seconds.
    func accept(_ accept: Call.Accept, from id: FrameworkID) {
        guard let framework = frameworks[id] else { return }
        let operations = accept.operations ?? []
        var used: [OfferRecord] = []
        var problem: String?
        for offerID in accept.offerIDs {
            guard let record = offers[offerID] else {
                problem = "offer \(offerID) is not outstanding: it was rescinded, declined, already accepted or never made; launch on a current offer"
                continue
            }
            guard record.offer.framework == id else {
                problem = "offer \(offerID) was made to another framework"
                continue
            }
            used.append(record)
        }
        if accept.offerIDs.isEmpty { problem = "ACCEPT names no offer_ids" }
        if Set(used.map(\.offer.agent)).count > 1 {
            problem = "offers \(used.map(\.id.value).joined(separator: ", ")) are on different agents; accept offers of one agent per call"
        }
        if Set(used.map(\.offer.role)).count > 1 {
            problem = "offers \(used.map(\.id.value).joined(separator: ", ")) are for different roles; accept offers of one role per call"
        }
        for record in used { offers[record.id] = nil }
        defer { requestAllocation() }

        guard problem == nil, let first = used.first, let agent = agents[first.offer.agent], agent.reachable else {
            let reason = problem ?? "the offers' agent is no longer reachable"
            let state: TaskState = framework.isPartitionAware ? .dropped : .lost
            for task in operations.flatMap(\.tasks) {
                deliver(masterStatus(task.taskID, state, reason: .invalidOffers, message: reason, agent: task.agentID), to: id)
            }
            logger.info("ACCEPT refused", metadata: ["framework": "\(id)", "why": "\(reason)"])
            return
        }

        var remaining = used.reduce(Resources()) { $0 + $1.offer.resources }
        for operation in operations {
            switch operation.type {
            case "LAUNCH", "LAUNCH_GROUP":
                launch(operation, framework: framework, agent: agent, role: first.offer.role, remaining: &remaining)
            default:
                // Not an ERROR event: Mesos clients read ERROR as "the framework was removed".
                logger.warning("unsupported offer operation ignored; only LAUNCH and LAUNCH_GROUP are supported",
                               metadata: ["framework": "\(id)", "type": "\(operation.type)"])
            }
        }
        addFilter(framework: id, agent: agent.id, refused: remaining,
                  seconds: accept.filters?.refuseSeconds ?? configuration.defaultRefuseSeconds)
    }

    private func launch(_ operation: Operation, framework: FrameworkRecord, agent: AgentRecord, role: Role, remaining: inout Resources) {
        let isGroup = operation.type == "LAUNCH_GROUP"
        var accepted: [TaskInfo] = []
        var available = remaining
        var firstProblem: String?
        var problems: [TaskID: String] = [:]
        var seen: Set<TaskID> = []
        for task in operation.tasks {
            if let problem = problemWith(task, framework: framework.id, agent: agent.id, available: available, seen: seen) {
                problems[task.taskID] = problem
                firstProblem = firstProblem ?? problem
            } else {
                available = available.removing(task.resources)
                accepted.append(task)
            }
            seen.insert(task.taskID)
        }
        // A task group launches whole or not at all.
        if isGroup, let firstProblem {
            for task in operation.tasks {
                deliver(masterStatus(task.taskID, .error, reason: .taskGroupInvalid, message: problems[task.taskID] ?? "another task of the group is invalid: \(firstProblem)", agent: agent.id), to: framework.id)
            }
            return
        }
        for (taskID, problem) in problems.sorted(by: { $0.key < $1.key }) {
            deliver(masterStatus(taskID, .error, reason: .taskInvalid, message: problem, agent: agent.id), to: framework.id)
        }
        guard !accepted.isEmpty else { return }
        let launched = accepted.map { task in
            TaskRecord(info: task, framework: framework.id, agent: agent.id, role: role,
                       status: TaskStatus(taskID: task.taskID, state: .staging, source: .master, agentID: agent.id, timestamp: wallClock))
        }
        do {
            try store?.save(launched.map(storedTask))
        } catch {
            // Not recorded means not launched: the framework hears so and can try again.
            for task in accepted {
                deliver(masterStatus(task.taskID, framework.isPartitionAware ? .dropped : .lost, reason: .taskUnknown,
                                     message: "the coordinator could not record the launch (\(error)); launch it again", agent: agent.id), to: framework.id)
            }
            return
        }
        remaining = available
        for task in launched { tasks[TaskKey(framework: framework.id, task: task.info.taskID)] = task }
        agent.channel?.send(.launch(AgentEvent.Launch(frameworkID: framework.id, frameworkInfo: framework.info, tasks: accepted,
                                                     executor: operation.launchGroup?.executor, group: isGroup ? true : nil)))
        logger.info("launching", metadata: ["framework": "\(framework.id)", "agent": "\(agent.id)", "tasks": "\(accepted.map(\.taskID.value))"])
    }

    /// What is wrong with a task, in words the framework's author can act on; nil when valid.
    func problemWith(_ task: TaskInfo, framework: FrameworkID, agent: AgentID, available: Resources, seen: Set<TaskID>) -> String? {
        let name = "task \(task.taskID)"
        if task.taskID.value.isEmpty { return "task_id is empty; give each task a unique, non-empty id" }
        if seen.contains(task.taskID) { return "\(name) appears twice in the same ACCEPT; task ids must be unique" }
        if let existing = tasks[TaskKey(framework: framework, task: task.taskID)], !existing.status.state.isTerminal {
            return "\(name) is already in use by a \(existing.status.state.rawValue) task of this framework; task ids must be unique"
        }
        if task.agentID != agent { return "\(name) names agent \(task.agentID) but the offers are for agent \(agent)" }
        if task.resources.isEmpty { return "\(name) has no resources; give it at least cpus and mem" }
        if task.command == nil && task.executor == nil {
            return "\(name) has neither a command nor an executor; set command.value (and shell) or command.arguments"
        }
        if let command = task.command, command.value == nil, (command.arguments ?? []).isEmpty, task.container == nil {
            return "\(name) has an empty command; set command.value"
        }
        if task.command?.environment?.variables.contains(where: { ($0.type ?? "VALUE") != "VALUE" }) == true {
            return "\(name) uses SECRET environment variables, which Berth does not support yet; pass the value as a VALUE"
        }
        if !available.contains(task.resources) {
            return "\(name) asks for \(task.resources), more than what is left of the offers: \(available.isEmpty ? "nothing" : available.description)"
        }
        return nil
    }
}
