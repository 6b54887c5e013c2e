// verify_artifact with crafted artifacts (libarchive, bypassing our writer) signed by a throwaway
// key: `verify --deep` unpacks nothing of an unsigned or tampered artifact (an inotify watch on an
// empty TMPDIR sees no folder made), and a signed bomb is stopped at the cap its provenance
// declares, or at --max-unpacked-size (library and CLI), with nothing left behind.
#include "artifact/artifact_verifier.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "../support/gpg_home.hpp"
#include "../support/shell_capture.hpp"
#include "../support/temp_dir.hpp"
#include "artifact/artifact_checksums.hpp"
#include "signing/gpg_signer.hpp"
#include "support/host_arch.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

constexpr const char* kName = "slurm-24.11.5-bookworm-amd64-software";

// Every name created or moved into `dir` while the watch lives.
class CreationWatch {
 public:
  explicit CreationWatch(const fs::path& dir) {
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    EXPECT_GE(fd_, 0);
    EXPECT_GE(::inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MOVED_TO), 0);
  }
  ~CreationWatch() { ::close(fd_); }
  CreationWatch(const CreationWatch&) = delete;
  CreationWatch& operator=(const CreationWatch&) = delete;
  std::vector<std::string> created() const {
    std::vector<std::string> names;
    alignas(inotify_event) std::array<char, 8192> buf{};
    ssize_t n = 0;
    while ((n = ::read(fd_, buf.data(), buf.size())) > 0) {
      for (ssize_t off = 0; off < n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf.data() + off);
        if (ev->len > 0) names.emplace_back(ev->name);
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      }
    }
    return names;
  }

 private:
  int fd_ = -1;
};

// A tar.zst with a small file and `zeros` bytes of zeros (a few KiB compressed).
void craft_bomb(const fs::path& file, std::uint64_t zeros) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_zstd(a);
  ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "view/README");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, 5);
  ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
  archive_write_data(a, "hello", 5);
  archive_entry_clear(e);
  archive_entry_set_pathname(e, "view/share/zeros");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(zeros));
  ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
  const std::string chunk(1 << 20, '\0');
  for (std::uint64_t left = zeros; left > 0;) {
    const auto n = std::min<std::uint64_t>(left, chunk.size());
    archive_write_data(a, chunk.data(), n);
    left -= n;
  }
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}

std::pair<int, std::string> capture(const std::string& cmd) {
  return sf::test::capture_status_and_output(cmd);
}

bool has_problem(const VerifyReport& r, const std::string& text) {
  for (const auto& p : r.problems)
    if (p.problem.find(text) != std::string::npos) return true;
  return false;
}

class ArtifactVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    home_ = new test::GpgHome();
    const std::string fpr =
        GpgSigner::generate_key(home_->path(), "Verifier Test <verifier@example.invalid>");
    signer_ = new GpgSigner({home_->path(), fpr, {}, {}, {}, {}});
  }
  static void TearDownTestSuite() {
    delete signer_;
    delete home_;
  }
  void SetUp() override {
    dir_ = std::make_unique<test::TempDir>("sf-verifier");
    tmp_ = dir_->path() / "tmp";
    fs::create_directories(tmp_);
    const char* old = std::getenv("TMPDIR");
    old_tmpdir_ = old != nullptr ? old : "";
    had_tmpdir_ = old != nullptr;
    ::setenv("TMPDIR", tmp_.c_str(), 1);
  }
  void TearDown() override {
    if (had_tmpdir_) {
      ::setenv("TMPDIR", old_tmpdir_.c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
  }

  // out/<name>.tar.zst (a bomb of `zeros` bytes), its provenance.json and SHA256SUMS (+ .asc
  // when signed).
  fs::path artifact(std::uint64_t zeros, const nlohmann::json& provenance, bool sign) {
    const fs::path out = dir_->path() / "out";
    fs::create_directories(out);
    const fs::path art = out / (std::string(kName) + ".tar.zst");
    craft_bomb(art, zeros);
    EXPECT_LT(fs::file_size(art), 64U << 10);
    test::write_file(out / (std::string(kName) + ".provenance.json"), provenance.dump(2));
    write_checksums(out, {art, out / (std::string(kName) + ".provenance.json")},
                    sign ? signer_ : nullptr);
    return art;
  }

  VerifyOptions deep() const {
    VerifyOptions o;
    o.deep = true;
    o.trust.gnupg_home = home_->path();
    return o;
  }

  static test::GpgHome* home_;
  static GpgSigner* signer_;
  std::unique_ptr<test::TempDir> dir_;
  fs::path tmp_;
  std::string old_tmpdir_;
  bool had_tmpdir_ = false;
};
test::GpgHome* ArtifactVerifierTest::home_ = nullptr;
GpgSigner* ArtifactVerifierTest::signer_ = nullptr;

const std::uint64_t kBomb = std::uint64_t{300} << 20;

TEST_F(ArtifactVerifierTest, UnsignedArtifactIsNotUnpacked) {
  const fs::path art = artifact(kBomb, {{"contents", {{"entries", 4}, {"bytes", 5}}}}, false);
  CreationWatch watch(tmp_);
  const auto report = verify_artifact(art, deep());
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(has_problem(report, "not unpacked for --deep"))
      << format_problem_table(report.problems);
  EXPECT_EQ(watch.created(), std::vector<std::string>{}) << "a temporary folder was made";
  EXPECT_TRUE(fs::is_empty(tmp_));
}

TEST_F(ArtifactVerifierTest, SignedButTamperedArtifactIsNotUnpacked) {
  const fs::path art = artifact(1000, {}, true);
  VerifyOptions shallow = deep();
  shallow.deep = false;
  const auto before = verify_artifact(art, shallow);
  ASSERT_TRUE(before.ok()) << format_problem_table(before.problems);
  craft_bomb(art, kBomb);  // the signed sums name other bytes
  CreationWatch watch(tmp_);
  const auto report = verify_artifact(art, deep());
  EXPECT_TRUE(has_problem(report, "sha256 mismatch")) << format_problem_table(report.problems);
  EXPECT_TRUE(has_problem(report, "not unpacked for --deep"))
      << format_problem_table(report.problems);
  EXPECT_EQ(watch.created(), std::vector<std::string>{}) << "a temporary folder was made";
}

// Signed by a trusted key (a careless or hostile signer): the provenance declares 2 entries and 5
// bytes, the archive holds 300 MiB more. Refused at the declared cap, the folder removed.
TEST_F(ArtifactVerifierTest, SignedBombStopsAtTheCapItsProvenanceDeclares) {
  const fs::path art = artifact(kBomb, {{"contents", {{"entries", 4}, {"bytes", 5}}}}, true);
  const auto report = verify_artifact(art, deep());
  EXPECT_EQ(report.signer, signer_->fingerprint());
  EXPECT_TRUE(has_problem(report, "view/share/zeros")) << format_problem_table(report.problems);
  EXPECT_TRUE(has_problem(report, "extraction cap of 5 B"))
      << format_problem_table(report.problems);
  EXPECT_TRUE(has_problem(report, art.string())) << format_problem_table(report.problems);
  EXPECT_TRUE(fs::is_empty(tmp_));
}

TEST_F(ArtifactVerifierTest, WithoutDeclaredContentsTheAbsoluteCapHolds) {
  const fs::path art = artifact(kBomb, nlohmann::json::object(), true);
  auto options = deep();
  options.max_unpacked_bytes = 64ULL << 20;
  const auto report = verify_artifact(art, options);
  EXPECT_TRUE(has_problem(report, "extraction cap of 64.0 MiB"))
      << format_problem_table(report.problems);
  EXPECT_TRUE(fs::is_empty(tmp_));
  bool warned = false;
  for (const auto& w : report.warnings)
    warned |= w.problem.find("declares no contents") != std::string::npos;
  EXPECT_TRUE(warned);
}

// The CLI: `verify --deep` of an unsigned bomb fails (exit 11) and makes nothing in TMPDIR; a
// signed bomb without declared contents stops at --max-unpacked-size, naming it.
TEST_F(ArtifactVerifierTest, CliDeepVerifyUnpacksNothingUnprovenAndHonoursTheCap) {
  const std::string bin = std::string(SF_TEST_BINARY_DIR) + "/bin/slurm-factory";
  fs::path art = artifact(kBomb, nlohmann::json::object(), false);
  {
    CreationWatch watch(tmp_);
    const auto [rc, out] =
        capture("TMPDIR=" + tmp_.string() + " " + bin + " verify --deep --keyring " +
                home_->path() + " " + art.string());
    EXPECT_EQ(rc, 11) << out;
    EXPECT_NE(out.find("not unpacked for --deep"), std::string::npos) << out;
    EXPECT_EQ(watch.created(), std::vector<std::string>{}) << out;
  }
  fs::remove_all(dir_->path() / "out");
  art = artifact(kBomb, nlohmann::json::object(), true);
  const auto [rc, out] = capture("TMPDIR=" + tmp_.string() + " " + bin +
                                 " verify --deep --max-unpacked-size 64M --keyring " +
                                 home_->path() + " " + art.string());
  EXPECT_EQ(rc, 11) << out;
  EXPECT_NE(out.find("extraction cap of 64.0 MiB"), std::string::npos) << out;
  EXPECT_TRUE(fs::is_empty(tmp_));
  const auto [bad_rc, bad_out] = capture(bin + " verify --deep --max-unpacked-size 12Q --keyring " +
                                         home_->path() + " " + art.string());
  EXPECT_NE(bad_rc, 0) << bad_out;
  EXPECT_NE(bad_out.find("--max-unpacked-size"), std::string::npos) << bad_out;
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

// Issue 17: the deep check reads every ELF file's machine against the artifact's architecture.
TEST(ArtifactVerifierElf, AnElfFileOfAnotherArchitectureIsAProblemNamingIt) {
  test::TempDir dir("sf-verifier-arch");
  const fs::path view = dir.path() / "view";
  fs::create_directories(view / "bin");
  test::write_file(dir.path() / "main.c", "int main(void) { return 0; }\n");
  ASSERT_EQ(std::system(("cc -o " + (view / "bin/sinfo").string() + " " +
                         (dir.path() / "main.c").string() + " -Wl,-rpath,'$ORIGIN/../lib'")
                            .c_str()),
            0);
  const std::vector<std::string> system = {"libc.so.6", "ld-linux-*.so.*"};
  const std::string host = host_arch();
  const std::string foreign = host == "amd64" ? "arm64" : "amd64";
  VerifyReport same;
  check_view_elf_files(view, system, same, host);
  EXPECT_TRUE(same.ok()) << format_problem_table(same.problems);
  VerifyReport other;
  check_view_elf_files(view, system, other, foreign);
  ASSERT_EQ(other.problems.size(), 1U) << format_problem_table(other.problems);
  EXPECT_EQ(other.problems[0].file, "view/bin/sinfo");
  EXPECT_EQ(other.problems[0].problem, "an " + host + " ELF file in an " + foreign + " artifact");
}

}  // namespace
}  // namespace sf
