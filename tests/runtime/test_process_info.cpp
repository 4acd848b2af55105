// process_info: what the console will show.
#include "support.hpp"

using namespace otpp;
using namespace otpp::test;

TEST_CASE_METHOD(RuntimeFixture, "process_info reports status, mailbox, links, monitors and name",
                 "[process_info]") {
    Pid parent = self();
    Pid p = spawn(
        [parent] {
            send(parent, Atom("ready"));
            receive(match::tuple(Atom("go")));
        },
        SpawnOptions{.label = "info_subject"});
    CHECK(expect_message() == Term(Atom("ready")));
    register_name(Atom("subject"), p);
    link(p);
    Ref ref = monitor(p);
    send(p, 1);
    send(p, 2);
    // Wait until both messages are queued and it is waiting again.
    std::optional<ProcessInfo> info;
    auto deadline = std::chrono::steady_clock::now() + patience;
    do {
        sleep_for(2ms);
        info = runtime.process_info(p);
        REQUIRE(info.has_value());
    } while ((info->status != ProcessStatus::waiting || info->message_queue_len != 2 || info->links.empty()) &&
             std::chrono::steady_clock::now() < deadline);
    CHECK(info->pid == p);
    CHECK(info->status == ProcessStatus::waiting);
    CHECK(info->message_queue_len == 2);
    CHECK(info->registered_name == Atom("subject"));
    CHECK(info->links == std::vector<Pid>{parent});
    CHECK(info->monitored_by == std::vector<Pid>{parent});
    CHECK(info->initial_call == "info_subject");
    CHECK(info->memory > 0);
    unlink(p);
    demonitor(ref);
    send(p, Term::tuple({Atom("go")}));
    REQUIRE(wait_dead(p));
    CHECK_FALSE(runtime.process_info(p).has_value());
}

TEST_CASE_METHOD(RuntimeFixture, "initial_call names the spawn site when there is no label", "[process_info]") {
    Pid p = spawn([] { receive(); });
    auto info = runtime.process_info(p);
    REQUIRE(info.has_value());
    CHECK(info->initial_call.find("test_process_info.cpp") != std::string::npos);
    exit(p, atoms::kill);
}

TEST_CASE_METHOD(RuntimeFixture, "runtime stats count processes and schedulers", "[process_info]") {
    auto s = runtime.stats();
    CHECK(s.schedulers == 2);
    CHECK(s.run_queue_lengths.size() == 3);
    CHECK(s.process_count >= 1);  // this test thread
    auto before = s.processes_spawned;
    Pid p = spawn([] { receive(); });
    CHECK(runtime.stats().processes_spawned == before + 1);
    auto all = runtime.processes();
    CHECK(std::find(all.begin(), all.end(), p) != all.end());
    exit(p, atoms::kill);
}
