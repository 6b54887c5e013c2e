// 3. the toolchain image: built, or reused when it is there, and the list of what it holds.
#include "app/app.hpp"
#include "pipeline/pipeline_run.hpp"
#include "toolchains/image_package_list.hpp"
#include "toolchains/toolchain_image.hpp"

namespace sf {

void stage_image(PipelineRun& run) {
  run.emit("image", "start", "preparing the build image " + run.result.planned.image_tag);
  auto engine = run.make_backend();
  engine->info();
  ToolchainImageRequest ireq = run.resolved->image;
  if (std::ostream* live = run.live; live != nullptr) {
    ireq.progress = [live](std::string_view line) { *live << "  | " << line << "\n"; };
  }
  auto image = prepare_toolchain_image(*engine, ireq);
  run.result.image = image.tag;
  if (auto inspected = engine->inspect_image(image.tag)) run.image_id = inspected->id;
  // Reproducible builds: what the image holds, for provenance (read once per image id).
  run.image_packages =
      image_package_list(*engine, image.tag, run.image_id, run.app.config().cache_dir);
  run.emit("image", "done", (image.reused ? "reused " : "built ") + image.tag,
           {{"image", image.tag}, {"reused", image.reused}});
}

}  // namespace sf
