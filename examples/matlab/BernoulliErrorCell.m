classdef BernoulliErrorCell < handle
%BERNOULLIERRORCELL ngc-learn's BernoulliErrorCell, through the ngc_mex gateway.
%
%   c = BernoulliErrorCell(name, n_units)
%   c = BernoulliErrorCell(name, n_units, 'batch_size', 1, 'input_logits', false, ...
%                          'shape', [], 'dtype', 'single')
%
%   c.set('p', p)            copy values into a compartment ('p', 'target',
%                            'modulator', 'mask', 'L', 'dp', 'dtarget')
%   v = c.get('dp')          copy values out: [n_units batch] (single or double)
%   c.advance()              one step (ngc-learn's advance_state); c.advance(t, dt)
%   c.reset()                rest values, the constructor's batch size
%   c.batched_reset(b)       rest values, batch size b
%   L = c.loss()             the log-likelihood of the last step (double)
%   s = c.info()             name, type, dtype, n_units, batch_size, compartments, threads
%   m = c.metadata()         ngc-learn's help(), corrected: a struct (jsondecode)
%   j = c.metadata_json()    the same as JSON text
%   d = c.dims('p')          ngc-learn's (row-major) dims, e.g. [batch n_units]
%   delete(c)                free the cell now (also when the last reference goes)
%
%   MATLAB arrays are copy-on-write, so values are copied in and out: no MATLAB
%   array is bound to the cell. A single cell ('dtype', 'single', ngc-learn's
%   default) returns single values; set() accepts single or double and converts.
%   ngc-learn's (batch, n_units) compartment is an [n_units batch] array here (the
%   same memory read column-major); set() takes any array with that many elements.
%
%   A failed call raises an error with identifier ngc:<status>, for example
%   ngc:NGC_ERR_UNKNOWN_COMPARTMENT, and the library's message. The gateway frees
%   every live cell when it is unloaded (clear mex in MATLAB; clear functions or
%   clear ngc_mex in Octave); a handle from before that is refused
%   (ngc:invalidHandle), and deleting its object is silent.

    properties (SetAccess = private)
        id = uint64(0)  % the gateway's handle (a uint64 number, not a pointer)
    end

    methods
        function obj = BernoulliErrorCell(name, n_units, varargin)
            opts = struct('batch_size', 1, 'input_logits', false, 'shape', [], ...
                          'dtype', 'single');
            if mod(numel(varargin), 2) ~= 0
                error('ngc:usage', 'options come in name/value pairs');
            end
            for k = 1:2:numel(varargin)
                key = varargin{k};
                if ~ischar(key) || ~isfield(opts, key)
                    error('ngc:usage', ['unknown option; the options are batch_size, ' ...
                                        'input_logits, shape and dtype']);
                end
                opts.(key) = varargin{k + 1};
            end
            obj.id = ngc_mex('new', name, n_units, opts.batch_size, opts.input_logits, ...
                             opts.shape, opts.dtype);
        end

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

        function advance(obj, t, dt)
            if nargin < 2, t = 0; end
            if nargin < 3, dt = 1; end
            ngc_mex('advance', obj.id, t, dt);
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
end
