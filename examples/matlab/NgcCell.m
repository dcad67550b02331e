classdef NgcCell < handle
%NGCCELL The methods every ngc-cells cell type has, through the ngc_mex gateway.
%
%   Make a cell with its type's class: BernoulliErrorCell, GaussianErrorCell,
%   LaplacianErrorCell, RewardErrorCell, RateCell (each a thin subclass of this one).
%   Then:
%
%   c.set('mu', v)           copy values into a compartment (names are ngc-learn's;
%                            s = c.info() lists them)
%   v = c.get('dmu')         copy values out: [n_units batch] (single or double)
%   c.set_shaped('Sigma', v) new dims and values (a per-unit Sigma: an [n_units 1]
%                            column); c.set_shaped('Sigma', v, dims) with ngc-learn's
%                            own (row-major) dims, [] for 0-d
%   c.advance()              one step (ngc-learn's advance_state); c.advance(t, dt)
%   c.evolve()               ngc-learn's evolve (RewardErrorCell); nothing for the others
%   c.reset()                rest values, the constructor's batch size
%   c.batched_reset(b)       rest values, batch size b
%   L = c.loss()             L of the last step (double), if L is one value
%   s = c.info()             name, type, dtype, n_units, batch_size, compartments, threads
%   m = c.metadata()         ngc-learn's help(), corrected: a struct (jsondecode)
%   j = c.metadata_json()    the same as JSON text
%   d = c.dims('mu')         ngc-learn's (row-major) dims, e.g. [batch n_units]
%   c.set_threads(n)         let advance use up to n threads
%   delete(c)                free the cell now (also when the last reference goes)
%
%   Layout. MATLAB arrays are column-major and ngc-learn's are row-major, so every
%   array here is ngc-learn's transposed: its (batch, n_units) is [n_units batch],
%   (batch, H, W, C) is [C W H batch] (the same memory, read the other way), a
%   (1, n_units) Sigma is an [n_units 1] column, and dims() gives ngc-learn's order.
%   set_shaped(name, v) takes the dims as v's size reversed (an [n 1] column is
%   (1, n), an [n b] matrix (b, n)); set_shaped(name, v, dims) takes ngc-learn's dims
%   as given ([] for a 0-d value, n for (n,)), v holding prod(dims) values in the
%   order get() returns them.
%
%   MATLAB arrays are copy-on-write, so values are copied in and out: no MATLAB
%   array is bound to the cell. A single cell ('dtype', 'single', ngc-learn's
%   default) returns single values; set() accepts single or double and converts.
%
%   A failed call raises an error with identifier ngc:<status>, for example
%   ngc:NGC_ERR_UNKNOWN_COMPARTMENT or ngc:NGC_ERR_SHAPE_MISMATCH, and the library's
%   message. The gateway frees every live cell when it is unloaded (clear mex in
%   MATLAB; clear functions or clear ngc_mex in Octave); a handle from before that is
%   refused (ngc:invalidHandle), and deleting its object is silent.

    properties (SetAccess = protected)
        id = uint64(0)  % the gateway's handle (a uint64 number, not a pointer)
    end

    methods
        function delete(obj)
            % Frees the cell. A destructor must not raise: a handle from before the
            % gateway was unloaded (already freed then) is refused, and ignored here.
            if obj.id ~= 0
                try
                    ngc_mex('free', obj.id);
                catch
                end
            end
        end

        function set(obj, compartment, value)
            ngc_mex('set', obj.id, compartment, value);
        end

        function value = get(obj, compartment)
            value = ngc_mex('get', obj.id, compartment);
        end

        function set_shaped(obj, compartment, value, dims)
            if nargin < 4
                ngc_mex('set_shaped', obj.id, compartment, value);
            else
                ngc_mex('set_shaped', obj.id, compartment, value, dims);
            end
        end

        function advance(obj, t, dt)
            if nargin < 2, t = 0; end
            if nargin < 3, dt = 1; end
            ngc_mex('advance', obj.id, t, dt);
        end

        function evolve(obj, t, dt)
            if nargin < 2, t = 0; end
            if nargin < 3, dt = 1; end
            ngc_mex('evolve', obj.id, t, dt);
        end

        function reset(obj)
            ngc_mex('reset', obj.id);
        end

        function batched_reset(obj, batch_size)
            ngc_mex('batched_reset', obj.id, batch_size);
        end

        function L = loss(obj)
            L = ngc_mex('loss', obj.id);
        end

        function set_threads(obj, n)
            ngc_mex('set_threads', obj.id, n);
        end

        function s = info(obj)
            s = ngc_mex('info', obj.id);
        end

        function j = metadata_json(obj)
            j = ngc_mex('metadata', obj.id);
        end

        function m = metadata(obj)
            m = jsondecode(ngc_mex('metadata', obj.id));
        end

        function d = dims(obj, compartment)
            d = ngc_mex('dims', obj.id, compartment);
        end
    end

    methods (Static, Hidden)
        function opts = options(opts, args)
            % Name/value pairs in args over the defaults in opts (a struct); the
            % subclasses' constructors use it.
            if mod(numel(args), 2) ~= 0
                error('ngc:usage', 'options come in name/value pairs');
            end
            for k = 1:2:numel(args)
                key = args{k};
                if ~ischar(key) || ~isfield(opts, key)
                    names = fieldnames(opts);
                    error('ngc:usage', 'unknown option; the options are %s', ...
                          strjoin(names', ', '));
                end
                opts.(key) = args{k + 1};
            end
        end
    end
end
