// A second translation unit including ngc_cells.hpp: the header-only wrapper must
// link into a program from several files (everything in it is inline).
#include "ngc_cells.hpp"

std::size_t second_tu_units(const ngc::Cell &cell) { return cell.n_units(); }
