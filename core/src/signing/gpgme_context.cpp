#include "signing/gpgme_context.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <csignal>
#include <fstream>
#include <iterator>
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
}  // namespace

namespace {

// Runs `tool` (absolute path) with `args` and the minimal environment; waits for it; its standard
// output into `out` when given. Returns its exit status (-1 when it could not be started).
int run_tool(const std::string& tool, const std::string& gnupg_home,
             const std::vector<std::string>& args, std::string* out) {
  if (tool.empty() || tool[0] != '/') return -1;
  std::vector<std::string> argv_s{tool};
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
  int pipefd[2] = {-1, -1};
  if (out != nullptr && ::pipe2(pipefd, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (out != nullptr) {
    ::posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  } else {
    ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  }
  ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  if (out != nullptr) {
    ::close(pipefd[1]);
    if (rc == 0) {
      char buf[512];
      ssize_t n = 0;
      while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) out->append(buf, static_cast<std::size_t>(n));
      }
    }
    ::close(pipefd[0]);
  }
  if (rc != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string bin_tool(const char* name) {
  const char* bindir = gpgme_get_dirinfo("bindir");
  return bindir != nullptr && bindir[0] == '/' ? std::string(bindir) + "/" + name : std::string();
}

struct Lease {
  int count = 0;
  pid_t agent = 0;   // the agent we launched (0: unknown)
  int lock_fd = -1;  // shared flock on the keyring's lease file, held while count > 0
};

// Other processes share the keyring (parallel builds, `run --parallel`, two admins): each holds a
// shared lock on this file while it uses the agent, and only the last one out stops it, so no
// process's signing meets an agent another one stopped ("Unusable secret key"). -1 when the
// keyring folder is not writable: then this process alone decides, as before.
int open_lease_lock(const std::string& home) {
  const std::string path = home + "/slurm-factory-agent.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -1;
  int rc = 0;
  while ((rc = ::flock(fd, LOCK_SH)) != 0 && errno == EINTR) {
  }
  if (rc != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True when no other process holds the lease: our shared lock became exclusive, and stays so
// until the caller closes fd after stopping the agent (a process arriving meanwhile waits for its
// shared lock, then starts a new agent). A failed conversion may drop our shared lock first
// (flock(2)): harmless, we are leaving.
bool last_lease_out(int fd) { return fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) == 0; }

std::map<std::string, Lease>& lease_table() {
  static std::map<std::string, Lease> m;
  return m;
}

// Launches the agent of `home` (autostarted by gpg-connect-agent, so with the minimal
// environment) and returns its pid (0 when unknown).
pid_t launch_agent(const std::string& home) {
  std::string out;
  run_tool(bin_tool("gpg-connect-agent"), home, {"GETINFO pid", "/bye"}, &out);
  const auto d = out.find("D ");
  if (d == std::string::npos) return 0;
  try {
    return static_cast<pid_t>(std::stol(out.substr(d + 2)));
  } catch (const std::exception&) {
    return 0;
  }
}

bool is_agent(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return cmdline.find("gpg-agent") != std::string::npos;
}

// Stops the agent: SIGTERM (it finishes what it does, then exits) and a short wait for it to go,
// so that a command started right after never meets a dying agent; else gpgconf --kill.
void stop_agent(const std::string& home, pid_t pid) {
  if (pid > 0 && is_agent(pid) && ::kill(pid, SIGTERM) == 0) {
    for (int i = 0; i < 400 && ::kill(pid, 0) == 0 && is_agent(pid); ++i) ::usleep(5000);
    return;
  }
  run_gpgconf(home, {"--kill", "gpg-agent"});
}

}  // namespace

int run_gpgconf(const std::string& gnupg_home, const std::vector<std::string>& args) {
  init_once();
  const char* gpgconf = gpgme_get_dirinfo("gpgconf-name");
  return run_tool(gpgconf != nullptr ? gpgconf : "", gnupg_home, args, nullptr);
}

AgentLease::AgentLease(std::string gnupg_home) : home_(std::move(gnupg_home)) {
  init_once();
  std::lock_guard<std::mutex> lock(lease_mutex());
  Lease& l = lease_table()[home_];
  if (l.count++ == 0) {
    l.lock_fd = open_lease_lock(home_);
    l.agent = launch_agent(home_);
  }
}

AgentLease::~AgentLease() {
  std::lock_guard<std::mutex> lock(lease_mutex());
  Lease& l = lease_table()[home_];
  if (--l.count == 0) {
    const pid_t pid = l.agent;
    const int fd = l.lock_fd;
    lease_table().erase(home_);
    if (last_lease_out(fd)) stop_agent(home_, pid);
    if (fd >= 0) ::close(fd);
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
