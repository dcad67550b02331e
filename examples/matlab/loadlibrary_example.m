% LOADLIBRARY_EXAMPLE  ngc-cells from MATLAB without a MEX file: loadlibrary + calllib
% on the shared library and the header as it is.
%
% MATLAB only: GNU Octave has no loadlibrary, so this file is not run by the
% repository's tests (they only check that it parses). The MEX gateway
% (BernoulliErrorCell.m, ngc_mex.c) is the tested and recommended way; this is for
% users who prefer calllib. loadlibrary needs a C compiler that MATLAB supports
% (it preprocesses the header with it) and `cargo build --release` first.
%
% Values are copied in and out (ngc_cell_set_f32 / ngc_cell_get_f32): MATLAB arrays
% passed to calllib are temporaries, so never bind them (ngc_cell_bind) to a cell.
root = fullfile(fileparts(mfilename('fullpath')), '..', '..');
if ispc
    libfile = 'ngc_cells.dll';
elseif ismac
    libfile = 'libngc_cells.dylib';
else
    libfile = 'libngc_cells.so';
end
lib = 'ngc_cells';
if ~libisloaded(lib)
    loadlibrary(fullfile(root, 'target', 'release', libfile), ...
                fullfile(root, 'include', 'ngc_cells.h'), 'alias', lib);
end
fprintf('%s\n', calllib(lib, 'ngc_version'));

% The constructor's last argument is an out-parameter (NgcCell **): a pointer to a
% pointer that the library fills. (`libfunctionsview ngc_cells` shows the type name
% MATLAB gave it; if it is not voidPtrPtr, use that name here.)
NGC_DTYPE_F32 = int32(1);
pp = libpointer('voidPtrPtr');
st = calllib(lib, 'ngc_bernoulli_error_cell_new', 'z0', uint64(1), uint64(1), false, [], ...
             NGC_DTYPE_F32, pp);
ngc_check(lib, st);
cellp = pp.Value;                         % the NgcCell * handle

% ngc-learn's test sequence (1 unit, batch 1, probabilities, float32).
p_in = single([0.49671414, -0.13826430, 0.64768857, 1.5230298, -0.23415338, ...
               -0.23413695, 1.5792128, 0.76743472, -0.46947438, 0.54256004]);
dp_ref = single([-2.8193381, -4976.9263, -2.1224928, -2939.0425, -1233.3916, ...
                 -0.24662945, -708.30042, 0.28213939, 3550.8477, 1.3651246]);
dp = libpointer('singlePtr', single(0));  % where ngc_cell_get_f32 writes
for t = 0:9
    ngc_check(lib, calllib(lib, 'ngc_cell_set_f32', cellp, 'p', p_in(t + 1), uint64(1)));
    ngc_check(lib, calllib(lib, 'ngc_cell_set_f32', cellp, 'target', single((t - 5) / 2), uint64(1)));
    ngc_check(lib, calllib(lib, 'ngc_cell_advance', cellp, t, 1));
    ngc_check(lib, calllib(lib, 'ngc_cell_get_f32', cellp, 'dp', dp, uint64(1)));
    fprintf('t=%d  dp=%14.7f  (ngc-learn %14.7f)\n', t, dp.Value, dp_ref(t + 1));
end

% An error: the status, its name and the library's message.
st = calllib(lib, 'ngc_cell_set_f32', cellp, 'q', single(1), uint64(1));
try
    ngc_check(lib, st);
catch err
    fprintf('caught %s\n', err.message);
end

calllib(lib, 'ngc_cell_free', cellp);
clear cellp pp dp
unloadlibrary(lib);

function ngc_check(lib, st)
% Raises a MATLAB error with the status name and the library's message.
if st ~= 0
    [n, msg] = calllib(lib, 'ngc_last_error_message', blanks(1024), uint64(1024));
    msg = msg(1:min(n, numel(msg)));
    error(['ngc:' calllib(lib, 'ngc_status_str', st)], '%s: %s', ...
          calllib(lib, 'ngc_status_str', st), msg);
end
end
