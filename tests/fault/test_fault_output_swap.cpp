// Crash-safe replacement (issue 13, item 6). A process killed (SIGKILL) at any moment while it
// replaces a folder or a file leaves the target as its old or its new version, complete, never
// missing; what it leaves beside the target (temp siblings) is removed by the next writer once
// the process is gone; a swap cut short on a file system without an atomic exchange is rolled
// back by the next start. The writer runs in a forked child so the kill is real.
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "tests/support/test_support.h"

#include "core/util/atomic_dir.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/temp_sibling.h"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <random>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace rilq;
namespace fs = std::filesystem;

namespace {

// Version k of a folder: two small files that must agree and one large enough that the fill
// takes a while, so kills land in every phase.
void fill_version(const std::string& dir, int k) {
    test::write_file(dir + "/a.txt", std::to_string(k));
    test::write_file(dir + "/big.bin", std::string(256 * 1024, static_cast<char>('a' + k % 26)));
    test::write_file(dir + "/b.txt", std::to_string(k));
}

const ReplaceRule& versions_rule() {
    static const ReplaceRule rule{"a versioned test folder",
                                  [](const std::string& d) { return fs::exists(d + "/a.txt"); }};
    return rule;
}

// Every entry beside `target` whose name starts with "<target name>." (temp siblings).
std::vector<std::string> siblings_of(const fs::path& target) {
    std::vector<std::string> out;
    const std::string prefix = target.filename().string() + ".";
    for (const auto& e : fs::directory_iterator(target.parent_path()))
        if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path().filename().string());
    return out;
}

// The folder is one complete version: both small files present and equal.
bool complete(const fs::path& target, std::string* why) {
    if (!fs::is_directory(target)) {
        *why = "missing";
        return false;
    }
    if (!fs::exists(target / "a.txt") || !fs::exists(target / "b.txt")) {
        *why = "a.txt or b.txt missing";
        return false;
    }
    const std::string a = test::read_file((target / "a.txt").string()),
                      b = test::read_file((target / "b.txt").string());
    if (a != b) *why = "mixed versions " + a + " / " + b;
    return a == b;
}

// Forks a child that replaces `target` over and over (`dir` true: a folder, else a file), kills
// it after `delay_us`, and returns once it is reaped.
void kill_writer_after(const fs::path& target, bool dir, int delay_us) {
    const pid_t child = ::fork();
    if (child == 0) {
        for (int k = 1;; ++k) {
            try {
                if (dir)
                    write_dir_atomic(target.string(), versions_rule(),
                                     [k](const std::string& tmp) { fill_version(tmp, k); });
                else // one letter at both ends: a torn or mixed file has different ends
                    write_file_atomic(target.string(), std::string(1, static_cast<char>('a' + k % 26)) +
                                                           std::string(64 * 1024, 'x') +
                                                           std::string(1, static_cast<char>('a' + k % 26)));
            } catch (...) {
                ::_exit(3);
            }
        }
    }
    QVERIFY(child > 0);
    // Meanwhile a reader keeps looking: the target must never be missing.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(delay_us);
    int looks = 0, missing = 0;
    while (std::chrono::steady_clock::now() < until) {
        if (!fs::exists(target)) ++missing;
        ++looks;
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    QVERIFY2(missing == 0, ("the target was missing in " + std::to_string(missing) + " of " +
                            std::to_string(looks) + " looks during swaps")
                               .c_str());
    QVERIFY2(WIFSIGNALED(status), "the writer ended by itself (an error in the child)");
}

} // namespace

class TestFaultOutputSwap : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void killedFolderSwapsLeaveOldOrNewAndNoLeftovers() {
        const fs::path target = fs::path(test::make_temp_dir("fault-swap")) / "out";
        write_dir_atomic(target.string(), versions_rule(),
                         [](const std::string& tmp) { fill_version(tmp, 0); });
        std::mt19937 rng(7);
        for (int round = 0; round < 12; ++round) {
            kill_writer_after(target, true, 2000 + static_cast<int>(rng() % 40000));
            std::string why;
            QVERIFY2(complete(target, &why), ("round " + std::to_string(round) + ": " + why).c_str());
            // The next writer of the same folder cleans up what the killed one left.
            write_dir_atomic(target.string(), versions_rule(),
                             [round](const std::string& tmp) { fill_version(tmp, 1000 + round); });
            QCOMPARE(test::read_file((target / "a.txt").string()), std::to_string(1000 + round));
            const auto left = siblings_of(target);
            QVERIFY2(left.empty(), left.empty() ? "" : ("left beside the target: " + left.front()).c_str());
        }
    }

    void killedFileWritesLeaveOldOrNewAndNoLeftovers() {
        const fs::path target = fs::path(test::make_temp_dir("fault-swap-file")) / "data.txt";
        write_file_atomic(target.string(), "0" + std::string(64 * 1024, 'x') + "0");
        for (int round = 0; round < 8; ++round) {
            kill_writer_after(target, false, 1000 + round * 3000);
            const std::string text = test::read_file(target.string());
            QCOMPARE(text.size() >= 64 * 1024 + 2, true);
            QCOMPARE(text.front(), text.back());      // one version, whole
            write_file_atomic(target.string(), text); // the next writer...
            QVERIFY(siblings_of(target).empty());     // ...leaves nothing of the killed one
        }
    }

    // A swap cut short between "target -> old" and "new -> target" (the two-rename fallback on
    // file systems without RENAME_EXCHANGE): the next start puts the old version back. The state
    // is made by hand, named after a process that has ended (a child forked and reaped here).
    void aSwapCutShortIsRolledBack() {
        const fs::path root(test::make_temp_dir("fault-rollback"));
        const pid_t gone = ::fork();
        if (gone == 0) ::_exit(0);
        ::waitpid(gone, nullptr, 0);
        // This host's tag from a name of our own; pid and start time those of the ended child.
        const std::string own = temp_sibling((root / "out").string(), "old");
        const std::string host = own.substr(own.find(".old-") + 5, 8);
        const std::string dead = host + "-" + std::to_string(gone) + "-12345-";
        const fs::path old = (root / "out").string() + ".old-" + dead + "1";
        const fs::path half_new = (root / "out").string() + ".tmp-" + dead + "2";
        fs::create_directories(old);
        fill_version(old.string(), 4);
        fs::create_directories(half_new);
        test::write_file((half_new / "a.txt").string(), "5");
        // A live process's sibling is left alone.
        const fs::path live = temp_sibling((root / "out").string(), "tmp");
        fs::create_directories(live);

        QCOMPARE(clean_stale_temp_siblings((root / "out").string()), 2);
        std::string why;
        QVERIFY2(complete(root / "out", &why), why.c_str());
        QCOMPARE(test::read_file((root / "out/a.txt").string()), std::string("4"));
        QVERIFY(!fs::exists(half_new));
        QVERIFY(fs::exists(live));
    }

    // A folder the rule does not recognise is never replaced, and the error names it.
    void aForeignFolderIsNeverReplaced() {
        const fs::path target = fs::path(test::make_temp_dir("fault-foreign")) / "theirs";
        fs::create_directories(target);
        test::write_file((target / "keep.txt").string(), "mine");
        try {
            write_dir_atomic(target.string(), versions_rule(),
                             [](const std::string& tmp) { fill_version(tmp, 1); });
            QFAIL("replaced a folder the rule does not recognise");
        } catch (const Error& e) {
            QVERIFY2(std::string(e.what()).find(target.string()) != std::string::npos, e.what());
        }
        QCOMPARE(test::read_file((target / "keep.txt").string()), std::string("mine"));
        QVERIFY(siblings_of(target).empty());
        // An empty folder holds nothing to lose: it is replaced.
        fs::remove(target / "keep.txt");
        write_dir_atomic(target.string(), versions_rule(),
                         [](const std::string& tmp) { fill_version(tmp, 1); });
        QCOMPARE(test::read_file((target / "a.txt").string()), std::string("1"));
    }
};

RILQ_TEST_GUILESS_MAIN(TestFaultOutputSwap)
#include "test_fault_output_swap.moc"
