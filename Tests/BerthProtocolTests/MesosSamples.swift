/// Calls and events as Apache Mesos documents them
/// (https://mesos.apache.org/documentation/latest/scheduler-http-api/), with the documentation's
/// shorthand fixed where real Mesos sends otherwise (IDs as {"value": ...} objects, OFFERS nested
/// under "offers", ERROR's message under "error").
enum MesosSamples {
    static let subscribe = """
    {
       "type"       : "SUBSCRIBE",
       "subscribe"  : {
          "framework_info"  : {
            "user" :  "foo",
            "name" :  "Example HTTP Framework",
            "roles": ["test"],
            "capabilities" : [{"type": "MULTI_ROLE"}],
            "failover_timeout": 3600,
            "hostname": "sched.example.com",
            "principal": "ops"
          }
      }
    }
    """

    static let resubscribe = """
    {
       "framework_id" : {"value" : "12220-3440-12532-2345"},
       "type"         : "SUBSCRIBE",
       "subscribe"    : {
          "framework_info"  : {
            "user" :  "foo",
            "name" :  "Example HTTP Framework",
            "id"   :  {"value" : "12220-3440-12532-2345"},
            "role" :  "test",
            "failover_timeout" : 604800
          }
       }
    }
    """

    static let teardown = """
    {"framework_id": {"value": "12220-3440-12532-2345"}, "type": "TEARDOWN"}
    """

    static let accept = """
    {
      "framework_id": {"value": "12220-3440-12532-2345"},
      "type": "ACCEPT",
      "accept": {
        "offer_ids": [{"value": "12220-3440-12532-O12"}],
        "operations": [{
          "type": "LAUNCH",
          "launch": {"task_infos": [{
            "name": "My Task",
            "task_id": {"value": "12220-3440-12532-my-task"},
            "agent_id": {"value": "12220-3440-12532-S1233"},
            "command": {"shell": true, "value": "sleep 1000", "environment": {"variables": [{"name": "GREETING", "value": "hi"}]}},
            "resources": [
              {"allocation_info": {"role": "engineering"}, "name": "cpus", "role": "*", "type": "SCALAR", "scalar": {"value": 1.0}},
              {"allocation_info": {"role": "engineering"}, "name": "mem", "role": "*", "type": "SCALAR", "scalar": {"value": 128.0}}
            ],
            "kill_policy": {"grace_period": {"nanoseconds": 3000000000}},
            "health_check": {"type": "COMMAND", "command": {"value": "true"}},
            "limits": {"cpus": "Infinity", "mem": 4096}
          }]}
        }],
        "filters": {"refuse_seconds": 5.0}
      }
    }
    """

    static let launchGroup = """
    {
      "framework_id": {"value": "12220-3440-12532-2345"},
      "type": "ACCEPT",
      "accept": {
        "offer_ids": [{"value": "12220-3440-12532-O13"}],
        "operations": [{
          "type": "LAUNCH_GROUP",
          "launch_group": {
            "executor": {"type": "DEFAULT", "executor_id": {"value": "e1"}, "resources": []},
            "task_group": {"tasks": [
              {"name": "a", "task_id": {"value": "a"}, "agent_id": {"value": "S1"}, "command": {"value": "true"},
               "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}]}
            ]}
          }
        }]
      }
    }
    """

    static let decline = """
    {
      "framework_id"    : {"value" : "12220-3440-12532-2345"},
      "type"            : "DECLINE",
      "decline"         : {
        "offer_ids" : [
                       {"value" : "12220-3440-12532-O12"},
                       {"value" : "12220-3440-12532-O13"}
                      ],
        "filters"   : {"refuse_seconds" : 5.0}
      }
    }
    """

    static let revive = """
    {"framework_id": {"value": "12220-3440-12532-2345"}, "type": "REVIVE", "revive": {"roles": ["test"]}}
    """

    static let suppress = """
    {"framework_id": {"value": "12220-3440-12532-2345"}, "type": "SUPPRESS", "suppress": {"roles": ["test"]}}
    """

    static let kill = """
    {
      "framework_id"    : {"value" : "12220-3440-12532-2345"},
      "type"            : "KILL",
      "kill"            : {
        "task_id"   :  {"value" : "12220-3440-12532-my-task"},
        "agent_id"  :  {"value" : "12220-3440-12532-S1233"}
      }
    }
    """

    static let shutdown = """
    {
      "framework_id"    : {"value" : "12220-3440-12532-2345"},
      "type"            : "SHUTDOWN",
      "shutdown"        : {
        "executor_id"   :  {"value" : "123450-2340-1232-my-executor"},
        "agent_id"      :  {"value" : "12220-3440-12532-S1233"}
      }
    }
    """

    static let acknowledge = """
    {
      "framework_id"    : {"value" : "12220-3440-12532-2345"},
      "type"            : "ACKNOWLEDGE",
      "acknowledge"     : {
        "agent_id"  :  {"value" : "12220-3440-12532-S1233"},
        "task_id"   :  {"value" : "12220-3440-12532-my-task"},
        "uuid"      :  "jhadf73jhakdlfha723adf"
      }
    }
    """

    static let reconcile = """
    {
      "framework_id"    : {"value" : "12220-3440-12532-2345"},
      "type"            : "RECONCILE",
      "reconcile"       : {
        "tasks"     : [
                       { "task_id"  : {"value" : "312325"},
                         "agent_id" : {"value" : "123535"}
                       }
                      ]
      }
    }
    """

    static let message = """
    {
      "framework_id"    : {"value" : "12220-3440-12532-2345"},
      "type"            : "MESSAGE",
      "message"         : {
        "agent_id"       : {"value" : "12220-3440-12532-S1233"},
        "executor_id"    : {"value" : "my-framework-executor"},
        "data"           : "adaoi4jfwe3fo8ajf"
      }
    }
    """

    static let updateFramework = """
    {
      "framework_id": {"value": "12220-3440-12532-2345"},
      "type": "UPDATE_FRAMEWORK",
      "update_framework": {"framework_info": {"user": "foo", "name": "renamed", "id": {"value": "12220-3440-12532-2345"}, "roles": ["a", "b"]}}
    }
    """

    static let subscribed = """
    {"type": "SUBSCRIBED", "subscribed": {"framework_id": {"value": "12220-3440-12532-2345"}, "heartbeat_interval_seconds": 15}}
    """

    static let offers = """
    {
      "type": "OFFERS",
      "offers": {"offers": [{
        "id": {"value": "12214-23523-O235235"},
        "framework_id": {"value": "12214-23523"},
        "agent_id": {"value": "12214-23523-S1"},
        "hostname": "agent.host",
        "resources": [
          {"name": "cpus", "type": "SCALAR", "scalar": {"value": 4}, "role": "*", "allocation_info": {"role": "test"}},
          {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 32000}]}, "allocation_info": {"role": "test"}}
        ],
        "attributes": [
          {"name": "rack", "type": "TEXT", "text": {"value": "r1"}},
          {"name": "level", "type": "SCALAR", "scalar": {"value": 2}}
        ],
        "executor_ids": [],
        "allocation_info": {"role": "test"}
      }]}
    }
    """

    static let rescind = """
    {"type": "RESCIND", "rescind": {"offer_id": {"value": "12214-23523-O235235"}}}
    """

    static let update = """
    {
      "type": "UPDATE",
      "update": {"status": {
        "task_id": {"value": "12344-my-task"},
        "state": "TASK_RUNNING",
        "source": "SOURCE_EXECUTOR",
        "agent_id": {"value": "12214-23523-S1"},
        "uuid": "adfadfadbhgvjayd23r2uahj",
        "bytes": "uhdjfhuagdj63d7hadkf",
        "timestamp": 1700000000.5,
        "healthy": true
      }}
    }
    """

    static let failedUpdate = """
    {"type": "UPDATE", "update": {"status": {"task_id": {"value": "t"}, "state": "TASK_FAILED", "reason": "REASON_CONTAINER_LIMITATION_MEMORY", "message": "Memory limit exceeded", "source": "SOURCE_AGENT"}}}
    """

    static let eventMessage = """
    {"type": "MESSAGE", "message": {"agent_id": {"value": "12214-23523-S1"}, "executor_id": {"value": "my-executor"}, "data": "adaoi4jfwe3fo8ajf"}}
    """

    static let failure = """
    {"type": "FAILURE", "failure": {"agent_id": {"value": "12214-23523-S1"}, "executor_id": {"value": "my-executor"}, "status": 1}}
    """

    static let error = """
    {"type": "ERROR", "error": {"message": "Framework is not authorized"}}
    """

    static let heartbeat = """
    {"type": "HEARTBEAT"}
    """
}
