// 2. sources: every source archive of the plan, fetched (or found in the source cache) and
// verified.
#include "app/app.hpp"
#include "build/source_fetcher.hpp"
#include "pipeline/pipeline_run.hpp"

namespace sf {

void stage_fetch(PipelineRun& run) {
  run.emit("fetch", "start", "fetching and verifying sources");
  FetchOptions fo;
  SourceFetcher fetcher(run.app.config().cache_dir, fo);
  run.fetched = fetcher.fetch_all(SourceFetcher::items_for(run.plan()));
  std::size_t downloaded = 0;
  for (const auto& f : run.fetched) downloaded += f.was_cached ? 0 : 1;
  run.emit("fetch", "done",
           std::to_string(run.fetched.size()) + " source archive(s) verified (" +
               std::to_string(downloaded) + " downloaded)",
           {{"sources", run.fetched.size()}, {"downloaded", downloaded}});
}

}  // namespace sf
