// The slurm-factory binary: parse arguments, hand them to the core library.
#include "cli/cli.hpp"

int main(int argc, char** argv) { return sf::cli::main(argc, argv); }
