function build_ngc_mex(libdir, outdir)
%BUILD_NGC_MEX  Builds the ngc_mex gateway (MATLAB's mex or Octave's mkoctfile --mex).
%
%   build_ngc_mex()                 links ../../target/release (after cargo build --release)
%   build_ngc_mex(libdir)           links the ngc_cells shared library in libdir
%   build_ngc_mex(libdir, outdir)   and writes ngc_mex.<mexext> to outdir
%
% It links the shared library and records libdir as the run-time search path
% (rpath) on Linux and macOS, so MATLAB/Octave need no LD_LIBRARY_PATH. On Windows,
% put ngc_cells.dll next to the MEX file or on PATH (and pass the folder holding
% its import library as libdir). A self-contained MEX file can instead be linked
% against the static library: see the README.
here = fileparts(mfilename('fullpath'));
if nargin < 1 || isempty(libdir)
    libdir = fullfile(here, '..', '..', 'target', 'release');
end
if nargin < 2 || isempty(outdir)
    outdir = here;
end
inc = fullfile(here, '..', '..', 'include');
src = fullfile(here, 'ngc_mex.c');
if exist('OCTAVE_VERSION', 'builtin')
    args = {'--mex', ['-I' inc], src, ['-L' libdir], '-lngc_cells', ...
            '-o', fullfile(outdir, 'ngc_mex.mex')};
    if ~ispc
        args{end + 1} = ['-Wl,-rpath,' libdir];
    end
    mkoctfile(args{:});
else
    args = {['-I' inc], src, ['-L' libdir], '-lngc_cells', '-outdir', outdir};
    if ~ispc
        args{end + 1} = ['LDFLAGS=$LDFLAGS -Wl,-rpath,' libdir];
    end
    mex(args{:});
end
fprintf('built %s\n', fullfile(outdir, ['ngc_mex.' mexext()]));
end
