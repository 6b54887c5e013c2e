#include "slurm_commands.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <sstream>

#include "slurm_factory/errors.hpp"

namespace sf::slurm {
namespace {

[[noreturn]] void refuse(const std::string& setting, const std::string& what,
                         const std::string& remediation) {
  throw ConfigurationError("executor slurm: settings." + setting + " " + what,
                           {{"setting", setting}}, remediation);
}

bool all_of(const std::string& s, const char* extra) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view(extra).find(c) != std::string_view::npos;
  });
}

std::string word(const nlohmann::json& j, const std::string& key, const char* extra,
                 const std::string& example) {
  if (!j.contains(key)) return {};
  if (!j[key].is_string()) refuse(key, "must be a string", "write e.g. " + key + ": " + example);
  std::string v = j[key].get<std::string>();
  if (!all_of(v, extra) || v.size() > 200) {
    refuse(
        key,
        "'" + v.substr(0, 80) + "' is not a Slurm " + key + " (letters, digits and " + extra + ")",
        "write e.g. " + key + ": " + example);
  }
  return v;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (const char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

int to_int(const std::string& s, int fallback) {
  int v = fallback;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() ? v : fallback;
}

bool job_id(const std::string& s) {
  return !s.empty() && s.size() < 20 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One JobStatus per line of `out` ('|'-separated fields, at least five, the first a job id),
// filled by `fill` from the fields; other lines are skipped.
template <typename Fill>
std::vector<JobStatus> job_lines(const std::string& out, Fill fill) {
  std::vector<JobStatus> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const auto f = split(line, '|');
    if (f.size() < 5 || !job_id(f[0])) continue;
    JobStatus s;
    s.id = f[0];
    fill(f, s);
    v.push_back(std::move(s));
  }
  return v;
}

std::string joined(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
  return out;
}

}  // namespace

const std::vector<std::string>& setting_keys() {
  static const std::vector<std::string> keys{
      "partition", "account", "qos", "time", "cpus_per_cell", "mem", "sbatch_options", "bin_dir"};
  return keys;
}

Settings parse_settings(const nlohmann::json& j) {
  Settings s;
  if (!j.is_object()) return s;
  s.partition = word(j, "partition", "_-.,", "build");
  s.account = word(j, "account", "_-.", "hpc-admin");
  s.qos = word(j, "qos", "_-.", "normal");
  s.time = word(j, "time", ":-", "\"2:00:00\"");
  if (!s.time.empty() && !std::all_of(s.time.begin(), s.time.end(), [](char c) {
        return (c >= '0' && c <= '9') || c == ':' || c == '-';
      })) {
    refuse("time", "'" + s.time + "' is not a Slurm time limit",
           "write minutes, H:MM:SS or D-HH:MM:SS, e.g. time: \"2:00:00\"");
  }
  if (j.contains("cpus_per_cell")) {
    const auto& v = j["cpus_per_cell"];
    if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 4096) {
      refuse("cpus_per_cell", "must be a whole number from 1 to 4096",
             "write e.g. cpus_per_cell: 8");
    }
    s.cpus_per_cell = v.get<int>();
  }
  s.mem = word(j, "mem", "", "16G");
  if (!s.mem.empty()) {
    const std::size_t digits = s.mem.find_first_not_of("0123456789");
    const bool ok = digits != 0 &&
                    (digits == std::string::npos ||
                     (digits + 1 == s.mem.size() &&
                      std::string_view("KMGTkmgt").find(s.mem.back()) != std::string_view::npos));
    if (!ok) refuse("mem", "'" + s.mem + "' is not a Slurm memory size", "write e.g. mem: 16G");
  }
  if (j.contains("sbatch_options")) {
    const auto& v = j["sbatch_options"];
    if (!v.is_array()) {
      refuse("sbatch_options", "must be a list of options",
             "write e.g. sbatch_options: [\"--constraint=docker\"]");
    }
    // Short forms never pass the "--" check above.
    static const std::array<const char*, 7> kOurs{
        "--parsable", "--job-name", "--output", "--error", "--dependency", "--wrap", "--chdir"};
    for (const auto& o : v) {
      const std::string opt = o.is_string() ? o.get<std::string>() : std::string();
      const bool printable = std::all_of(opt.begin(), opt.end(), [](char c) {
        return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
      });
      if (opt.size() < 3 || opt.rfind("--", 0) != 0 || !printable || opt.size() > 500) {
        refuse("sbatch_options",
               "holds '" + opt.substr(0, 80) +
                   "': each entry must be one sbatch option "
                   "starting with --",
               "write e.g. sbatch_options: [\"--constraint=docker\", \"--exclusive\"]");
      }
      const std::string name = opt.substr(0, opt.find('='));
      for (const char* ours : kOurs) {
        if (name == ours) {
          refuse("sbatch_options", "sets " + name + ", which the executor sets itself",
                 "remove it (the job name, log, dependencies and script are the pipeline's)");
        }
      }
      s.sbatch_options.push_back(opt);
    }
  }
  if (j.contains("bin_dir")) {
    if (!j["bin_dir"].is_string() || j["bin_dir"].get<std::string>().empty() ||
        j["bin_dir"].get<std::string>().front() != '/') {
      refuse("bin_dir", "must be an absolute folder", "write e.g. bin_dir: /usr/bin");
    }
    s.bin_dir = j["bin_dir"].get<std::string>();
  }
  return s;
}

std::string tool(const Settings& s, const std::string& name) {
  return s.bin_dir.empty() ? name : s.bin_dir + "/" + name;
}

std::vector<std::string> sbatch_argv(const Settings& s, const ExecutorJob& job) {
  std::vector<std::string> a{tool(s, "sbatch"), "--parsable", "--job-name=" + job.name,
                             "--output=" + job.log_file.string(),
                             "--chdir=" + job.workdir.string()};
  if (!s.partition.empty()) a.push_back("--partition=" + s.partition);
  if (!s.account.empty()) a.push_back("--account=" + s.account);
  if (!s.qos.empty()) a.push_back("--qos=" + s.qos);
  if (!s.time.empty()) a.push_back("--time=" + s.time);
  if (s.cpus_per_cell > 0) a.push_back("--cpus-per-task=" + std::to_string(s.cpus_per_cell));
  if (!s.mem.empty()) a.push_back("--mem=" + s.mem);
  if (!job.after_ok.empty())
    a.push_back("--dependency=afterok:" + [&] {
      std::string d;
      for (const auto& id : job.after_ok) d += (d.empty() ? "" : ":") + id;
      return d;
    }());
  a.insert(a.end(), s.sbatch_options.begin(), s.sbatch_options.end());
  a.push_back(job.script.string());
  return a;
}

std::optional<std::string> parse_sbatch_id(const std::string& out) {
  std::string line = out.substr(0, out.find('\n'));
  line = line.substr(0, line.find(';'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (!job_id(line)) return std::nullopt;
  return line;
}

std::vector<std::string> squeue_argv(const Settings& s, const std::vector<std::string>& ids) {
  return {tool(s, "squeue"), "--noheader", "--states=all", "--format=%i|%T|%M|%r|%N",
          "--jobs=" + joined(ids)};
}

std::vector<JobStatus> parse_squeue(const std::string& out) {
  return job_lines(out, [](const std::vector<std::string>& f, JobStatus& s) {
    s.scheduler_state = f[1];
    s.state = state_of(f[1]);
    s.elapsed_seconds = std::max(0.0, parse_elapsed(f[2]));
    s.reason = f[3] == "None" ? std::string() : f[3];
    s.node = f[4];
  });
}

std::vector<std::string> scontrol_argv(const Settings& s, const std::string& id) {
  return {tool(s, "scontrol"), "--oneliner", "show", "job", id};
}

std::optional<JobStatus> parse_scontrol(const std::string& out) {
  JobStatus s;
  std::istringstream in(out.substr(0, out.find('\n')));
  std::string w;
  while (in >> w) {
    const auto eq = w.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = w.substr(0, eq);
    const std::string v = w.substr(eq + 1);
    if (k == "JobId") s.id = v;
    if (k == "JobState") s.scheduler_state = v;
    if (k == "Reason") s.reason = v == "None" ? std::string() : v;
    if (k == "RunTime") s.elapsed_seconds = std::max(0.0, parse_elapsed(v));
    if (k == "NodeList") s.node = v == "(null)" ? std::string() : v;
    if (k == "ExitCode") std::tie(s.exit_code, s.signal) = parse_exit_code(v);
  }
  if (!job_id(s.id) || s.scheduler_state.empty()) return std::nullopt;
  s.state = state_of(s.scheduler_state);
  return s;
}

std::vector<std::string> sacct_argv(const Settings& s, const std::vector<std::string>& ids) {
  return {tool(s, "sacct"),
          "--allocations",
          "--noheader",
          "--parsable2",
          "--format=JobIDRaw,State,ExitCode,ElapsedRaw,NodeList,Reason",
          "--jobs=" + joined(ids)};
}

std::vector<JobStatus> parse_sacct(const std::string& out) {
  return job_lines(out, [](const std::vector<std::string>& f, JobStatus& s) {
    s.scheduler_state = f[1].substr(0, f[1].find(' '));  // "CANCELLED by 0"
    s.state = state_of(f[1]);
    std::tie(s.exit_code, s.signal) = parse_exit_code(f[2]);
    s.elapsed_seconds = std::max(0, to_int(f[3], 0));
    s.node = f[4] == "None assigned" ? std::string() : f[4];
    if (f.size() > 5) s.reason = f[5] == "None" ? std::string() : f[5];
  });
}

JobState state_of(const std::string& raw) {
  const std::string s = raw.substr(0, raw.find(' '));
  if (s == "PENDING" || s == "CONFIGURING" || s == "REQUEUED" || s == "REQUEUE_HOLD" ||
      s == "REQUEUE_FED" || s == "RESV_DEL_HOLD" || s == "SUSPENDED" || s == "STOPPED")
    return JobState::kPending;
  if (s == "RUNNING" || s == "COMPLETING" || s == "SIGNALING" || s == "STAGE_OUT" ||
      s == "RESIZING" || s == "UPDATE_DB" || s == "POWER_UP_NODE")
    return JobState::kRunning;
  if (s == "COMPLETED") return JobState::kCompleted;
  if (s == "FAILED" || s == "BOOT_FAIL" || s == "DEADLINE" || s == "SPECIAL_EXIT")
    return JobState::kFailed;
  if (s == "CANCELLED" || s == "REVOKED") return JobState::kCancelled;
  if (s == "TIMEOUT") return JobState::kTimeout;
  if (s == "NODE_FAIL" || s == "PREEMPTED") return JobState::kNodeFail;
  if (s == "OUT_OF_MEMORY") return JobState::kOutOfMemory;
  return JobState::kUnknown;
}

double parse_elapsed(const std::string& text) {
  std::string t = text;
  int days = 0;
  if (const auto dash = t.find('-'); dash != std::string::npos) {
    days = to_int(t.substr(0, dash), -1);
    if (days < 0) return -1;
    t = t.substr(dash + 1);
  }
  const auto parts = split(t, ':');
  if (parts.empty() || parts.size() > 3) return -1;
  double total = 0;
  for (const auto& p : parts) {
    const int v = to_int(p, -1);
    if (v < 0) return -1;
    total = total * 60 + v;
  }
  if (parts.size() == 1 && days == 0) return total * 60;  // minutes, as Slurm writes a bare number
  if (parts.size() == 2 && days > 0) total *= 60;         // D-HH:MM
  return total + days * 86400.0;
}

std::pair<int, int> parse_exit_code(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return {to_int(text, -1), 0};
  return {to_int(text.substr(0, colon), -1), to_int(text.substr(colon + 1), 0)};
}

}  // namespace sf::slurm
