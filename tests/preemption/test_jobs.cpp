// The jobs load generator, loaded through the code server: workers report
// jobs, the count changes at runtime, crashed workers are counted and replaced.
#include "fixture.hpp"

using namespace otpp;
using namespace otpp::test;

namespace {

const Atom jobs{"jobs"}, stats{"stats"}, set_workers{"set_workers"};

int64_t stat(const char* key) { return gen_server::call(jobs, stats, patience).find(Atom(key))->get<int64_t>(); }

std::vector<Pid> live_workers(Runtime& runtime) {
    std::vector<Pid> out;
    for (Pid p : runtime.processes())
        if (auto info = runtime.process_info(p); info && info->initial_call == "jobs worker") out.push_back(p);
    return out;
}

// Polls (bounded) until `done` holds.
template <class F>
bool eventually(F&& done) {
    auto deadline = std::chrono::steady_clock::now() + patience;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        sleep_for(20ms);
    }
    return true;
}

}  // namespace

TEST_CASE_METHOD(TwoSchedulers, "jobs: workers report about once a second and the count changes at runtime",
                 "[jobs]") {
    load(OTPP_JOBS);
    gen_server::start(jobs, Term::parse("#{workers => 20}"), gen_server::StartOptions{.name = jobs, .timeout = patience}).pid();
    CHECK(stat("workers") == 20);
    CHECK(live_workers(runtime).size() == 20);
    // Every worker's first job comes within its first second.
    CHECK(eventually([] { return stat("total") >= 20; }));
    CHECK(eventually([] { return stat("jobs_per_sec") > 0; }));
    CHECK(stat("failed") == 0);

    CHECK(gen_server::call(jobs, Term::tuple({set_workers, 5})) == Term(atoms::ok));
    CHECK(stat("workers") == 5);
    CHECK(eventually([&] { return live_workers(runtime).size() == 5; }));
    CHECK(gen_server::call(jobs, Term::tuple({set_workers, 8})) == Term(atoms::ok));
    CHECK(stat("workers") == 8);
    CHECK(live_workers(runtime).size() == 8);
}

TEST_CASE_METHOD(TwoSchedulers, "jobs: a crashed worker is counted and replaced and stopping jobs stops them all",
                 "[jobs]") {
    load(OTPP_JOBS);
    gen_server::start(jobs, Term(3), gen_server::StartOptions{.name = jobs, .timeout = patience}).pid();
    auto workers = live_workers(runtime);
    REQUIRE(workers.size() == 3);
    exit(workers[0], atoms::kill);
    CHECK(eventually([] { return stat("failed") == 1; }));
    CHECK(stat("workers") == 3);
    CHECK(eventually([&] {
        auto now = live_workers(runtime);
        return now.size() == 3 && std::find(now.begin(), now.end(), workers[0]) == now.end();
    }));

    gen_server::stop_server(jobs);
    CHECK(eventually([&] { return live_workers(runtime).empty(); }));
}

TEST_CASE_METHOD(TwoSchedulers, "jobs: the default is 10000 workers", "[jobs]") {
#if defined(__SANITIZE_THREAD__)
    // TSan models every fiber as a thread and dies past 8128 of them; the
    // plain and ASan runs check this one.
    WARN("not run under ThreadSanitizer (10,000 fibers exceed its thread limit)");
    return;
#endif
    load(OTPP_JOBS);
    // 10,000 spawns in init: seconds under a sanitizer; the bound is only for a hang.
    gen_server::start(jobs, Term(), gen_server::StartOptions{.name = jobs, .timeout = std::chrono::seconds(120)}).pid();
    CHECK(stat("workers") == 10000);
    CHECK(live_workers(runtime).size() == 10000);
    gen_server::stop_server(jobs);
    CHECK(eventually([&] { return live_workers(runtime).empty(); }));
}
