// `slurm-factory cache keys export | import | trust`: the keys that sign cache entries and
// artifacts.
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>

#include "cli/cache_cli.hpp"
#include "config/config_edit.hpp"
#include "config/config_loader.hpp"
#include "signing/gpg_verifier.hpp"
#include "signing/keys.hpp"
#include "slurm_factory/errors.hpp"

namespace sf::cli {

int keys_export(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory cache keys export [--armor] [--output FILE] [KEYID]",
      "Writes the public key that verifies this site's cache entries and artifacts: KEYID from "
      "the\n"
      "keyring, else the signing key (signing.key_id, signing.private_key_file / private_key_env,\n"
      "the only secret key of signing.keyring, or the automatic local key in <cache_dir>/gnupg,\n"
      "made now if there is none yet). Binary OpenPGP; --armor for ASCII armor. Give the output "
      "to\n"
      "the other machines: cache keys import FILE. Exporting the automatic key marks it as the\n"
      "site's shared signer, so that it may write remote cache layers.",
      "  slurm-factory cache keys export --armor > site-cache.asc\n"
      "  slurm-factory cache keys export --output site-cache.gpg 0123ABCD...\n"};
  std::string id, output;
  po::options_description opts("Options");
  opts.add_options()("armor,a", po::bool_switch(), "ASCII armor")(
      "output,o", po::value(&output)->value_name("FILE"), "write to FILE instead of stdout");
  auto vm = parse_with_argument(inv, spec, opts, "keyid", "KEYID",
                                "the key (also the first argument)", id);
  if (!vm) return 0;
  const bool armor = (*vm)["armor"].as<bool>();
  App app(inv.global);
  const Config& config = app.config();
  const std::string keyring = trust_keyring(config);
  std::string pattern = id;
  if (pattern.empty()) {
    // The signing key itself (its public part is in the keyring, whatever it came from).
    auto signer = open_config_signer(config);
    pattern = signer->fingerprint();
    if (uses_automatic_key(config.signing)) mark_keyring_shared(keyring);
  }
  const std::string bytes = export_public_keys(keyring, pattern, armor);
  if (output.empty()) {
    inv.out << bytes;
  } else {
    std::ofstream f(output, std::ios::binary | std::ios::trunc);
    f << bytes;
    if (!f) {
      throw UsageError("cannot write " + output, {{"file", output}},
                       "check the directory exists and is writable");
    }
    if (!inv.global.quiet) inv.err << "wrote " << output << "\n";
  }
  return 0;
}

int keys_import(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory cache keys import [options] FILE",
      "Imports the keys in FILE (armored or binary, as `cache keys export` writes them) into the\n"
      "keyring of the trust anchor (signing.keyring, else <cache_dir>/gnupg) and records them as\n"
      "trusted there, so that the entries and artifacts they signed verify. Nothing else in any\n"
      "keyring is trusted by being present.",
      "  slurm-factory cache keys import site-cache.asc\n"};
  std::string file;
  po::options_description opts("Options");
  if (!parse_with_argument(inv, spec, opts, "file", "FILE",
                           "the key file (also the first argument)", file))
    return 0;
  if (file.empty())
    throw UsageError("cache keys import needs FILE", {}, "slurm-factory cache keys import FILE");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UsageError("cannot read " + file, {{"file", file}}, "check the path");
  std::stringstream text;
  text << in.rdbuf();
  App app(inv.global);
  const std::string keyring = trust_keyring(app.config());
  GpgVerifier verifier(GpgTrust{keyring, {}, false});
  auto fprs = verifier.import_keys(text.str());
  if (!fprs) {
    throw SigningError(fprs.error().message, {{"file", file}, {"keyring", keyring}},
                       "give a file made by `cache keys export` or `gpg --export`");
  }
  std::set<std::string> unique(fprs->begin(), fprs->end());
  record_trusted_keys(keyring, {unique.begin(), unique.end()});
  if (inv.global.json) {
    inv.out << nlohmann::json{{"imported", unique}, {"keyring", keyring}, {"trusted", true}}.dump()
            << "\n";
    return 0;
  }
  for (const auto& f : unique) inv.out << "imported " << f << " (trusted in " << keyring << ")\n";
  return 0;
}

int keys_trust(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory cache keys trust [--write] FINGERPRINT",
      "Trusts FINGERPRINT: records it in the keyring of the trust anchor (signing.keyring, else\n"
      "<cache_dir>/gnupg) and prints the signing.trusted_fingerprints snippet to put into a "
      "config\n"
      "file (for other machines). With --write, also adds it to the user\n"
      "config file ($XDG_CONFIG_HOME/slurm-factory/config.yaml or\n"
      "~/.config/slurm-factory/config.yaml), keeping the previous file as config.yaml.bak; the\n"
      "file is re-emitted by yaml-cpp, so its comments are not kept. Warns when the key is not in\n"
      "signing.keyring (import it first, or entries it signed still do not verify).",
      "  slurm-factory cache keys trust 0123456789ABCDEF0123456789ABCDEF01234567\n"
      "  slurm-factory cache keys trust 0123456789ABCDEF0123456789ABCDEF01234567 --write\n"};
  std::string text;
  po::options_description opts("Options");
  opts.add_options()("write", po::bool_switch(), "change the user config file");
  auto vm = parse_with_argument(inv, spec, opts, "fingerprint", "FPR",
                                "the fingerprint (also the first argument)", text);
  if (!vm) return 0;
  if (text.empty())
    throw UsageError("cache keys trust needs FINGERPRINT", {},
                     "slurm-factory cache keys trust --help");
  const std::string fpr = normalized_fingerprint(text);
  App app(inv.global);
  const SigningSettings& sig = app.config().signing;
  const std::string keyring = trust_keyring(app.config());
  GpgVerifier verifier(GpgTrust{keyring, {}, false});
  if (!verifier.export_keys(fpr)) {
    inv.err << "warning: key " << fpr << " is not in " << keyring
            << "; import it (slurm-factory cache keys import FILE) or its entries will not "
               "verify\n";
  }
  // The site's explicit decision, recorded in the keyring of the trust anchor.
  record_trusted_keys(keyring, {fpr});
  if (!inv.global.quiet) inv.err << "trusted " << fpr << " in " << keyring << "\n";
  std::vector<std::string> list = sig.trusted_fingerprints;
  const bool already = std::find(list.begin(), list.end(), fpr) != list.end();
  if (!already) list.push_back(fpr);
  if (!(*vm)["write"].as<bool>()) {
    inv.out << "# add to a config file (e.g. "
            << user_config_file(ConfigSources::from_global(inv.global)).string()
            << "):\nsigning:\n  trusted_fingerprints:\n";
    for (const auto& f : list) inv.out << "    - " << f << "\n";
    return 0;
  }
  const fs::path file = user_config_file(ConfigSources::from_global(inv.global));
  if (file.empty()) {
    throw ConfigurationError(
        "no user config file: neither XDG_CONFIG_HOME nor HOME is set", {},
        "set HOME, or add the snippet printed without --write to a --config file");
  }
  const bool present = add_trusted_fingerprint(file, fpr);
  inv.out << (present ? "already trusted in " : "trusted " + fpr + " in ") << file.string() << "\n";
  return 0;
}

}  // namespace sf::cli
