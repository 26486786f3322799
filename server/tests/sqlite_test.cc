#include "sqlite.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace veil::server {
namespace {

// The store shares one connection between request threads and the sweep. An UPDATE that changed
// its row must report 1 even while another thread runs DELETEs that change nothing (before the
// fix, a sweep in between made a clinician's session touch look failed and deleted the session).
TEST(Sqlite, RunReportsItsOwnChangesWhileAnotherThreadWrites) {
  SqliteDb db(":memory:");
  db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)");
  db.Exec("INSERT INTO t VALUES (1, 0)");
  std::atomic<bool> stop = false;
  std::thread sweeper([&] {
    while (!stop) db.Prepare("DELETE FROM t WHERE id = 2").Run();
  });
  int wrong = 0;
  for (int i = 0; i < 20000; ++i) {
    if (db.Prepare("UPDATE t SET n = n + 1 WHERE id = 1").Run() != 1) ++wrong;
  }
  stop = true;
  sweeper.join();
  EXPECT_EQ(wrong, 0);
}

}  // namespace
}  // namespace veil::server
