# Convenience targets; everything is plain cargo + cc underneath.
CC ?= cc
CFLAGS ?= -O2 -std=c99 -Wall -Wextra -pedantic
OUT ?= target/demo

.PHONY: demo quickstart test lib install

lib:
	cargo build --release

# Build the library and run the main C demo: sparse coding of 8x8 bars, every neuron an
# ngc-cell (prints its energy per epoch; writes $(OUT)/bars_dictionary.png). Seconds.
demo: lib
	mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude examples/c/bars.c -Ltarget/release -lngc_cells -lm \
	    -Wl,-rpath,$(CURDIR)/target/release -o $(OUT)/bars
	$(OUT)/bars 20 $(OUT)

# The quick start: ngc-learn's own test sequence, linked against the shared library.
quickstart: lib
	mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude examples/c/quickstart.c -Ltarget/release -lngc_cells -lm \
	    -Wl,-rpath,$(CURDIR)/target/release -o $(OUT)/quickstart
	$(OUT)/quickstart

test:
	cargo test

# Install like a C library (see README "Installing"): make install PREFIX=/usr/local
PREFIX ?= /usr/local
install:
	./install.sh --prefix "$(PREFIX)" $(if $(DESTDIR),--destdir "$(DESTDIR)")
