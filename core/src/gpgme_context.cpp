#include "slurm_factory/core/gpgme_context.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <clocale>
#include <map>
#include <mutex>
#include <vector>

#include "slurm_factory/errors.hpp"

namespace sf::gpg {
namespace {
void init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    gpgme_check_version(nullptr);
    gpgme_set_locale(nullptr, LC_CTYPE, std::setlocale(LC_CTYPE, nullptr));
  });
}
std::mutex& lease_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, int>& leases() {
  static std::map<std::string, int> m;
  return m;
}
}  // namespace

int run_gpgconf(const std::string& gnupg_home, const std::vector<std::string>& args) {
  init_once();
  const char* gpgconf = gpgme_get_dirinfo("gpgconf-name");
  if (gpgconf == nullptr || gpgconf[0] != '/') return -1;
  std::vector<std::string> argv_s{gpgconf};
  if (!gnupg_home.empty()) {
    argv_s.emplace_back("--homedir");
    argv_s.push_back(gnupg_home);
  }
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The agent this may start inherits exactly this: no credentials, no passphrase variable.
  std::vector<std::string> env_s{"PATH=/usr/bin:/bin", "LC_ALL=C"};
  if (!gnupg_home.empty()) env_s.push_back("GNUPGHOME=" + gnupg_home);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, gpgconf, &actions, nullptr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

AgentLease::AgentLease(std::string gnupg_home) : home_(std::move(gnupg_home)) {
  std::lock_guard<std::mutex> lock(lease_mutex());
  if (leases()[home_]++ == 0) run_gpgconf(home_, {"--launch", "gpg-agent"});
}

AgentLease::~AgentLease() {
  std::lock_guard<std::mutex> lock(lease_mutex());
  if (--leases()[home_] == 0) {
    leases().erase(home_);
    run_gpgconf(home_, {"--kill", "gpg-agent"});
  }
}

std::string error_text(gpgme_error_t err) {
  return std::string(gpgme_strsource(err)) + ": " + gpgme_strerror(err);
}

Context::Context(const std::string& gnupg_home) {
  init_once();
  if (auto err = gpgme_new(&ctx_); err) {
    throw SigningError("cannot start gpgme: " + error_text(err), {},
                       "install gnupg (gpg and gpg-agent) and check GNUPGHOME");
  }
  gpgme_set_protocol(ctx_, GPGME_PROTOCOL_OpenPGP);
  gpgme_set_armor(ctx_, 1);
  if (!gnupg_home.empty()) {
    if (auto err =
            gpgme_ctx_set_engine_info(ctx_, GPGME_PROTOCOL_OpenPGP, nullptr, gnupg_home.c_str());
        err) {
      gpgme_release(ctx_);
      throw SigningError("cannot use keyring " + gnupg_home + ": " + error_text(err),
                         {{"keyring", gnupg_home}}, "check that the directory exists and is yours");
    }
  }
}

Context::~Context() {
  if (ctx_) gpgme_release(ctx_);
}

Data::Data() { gpgme_data_new(&d_); }
Data::Data(const std::string& bytes) {
  gpgme_data_new_from_mem(&d_, bytes.data(), bytes.size(), 1);
}
Data::~Data() {
  if (d_) gpgme_data_release(d_);
}

std::string Data::str() const {
  std::string out;
  gpgme_data_seek(d_, 0, SEEK_SET);
  char buf[8192];
  ssize_t n;
  while ((n = gpgme_data_read(d_, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace sf::gpg
