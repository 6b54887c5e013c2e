// Entry points of the command-line interface. main() is for the binary; run() is for tests.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace sf::cli {

int main(int argc, char** argv);
// Runs one command line (without the program name) writing to the given streams; returns the exit
// code. Errors are printed to `err`, never thrown.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace sf::cli
