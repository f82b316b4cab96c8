package org.bnb4j.updaters.impl;

import org.bnb4j.optim.OptimHyper;
import org.bnb4j.optim.OptimKind;
import org.bnb4j.optim.OptimState8bit;
import org.bnb4j.optim.OptimizerKernels;
import org.bnb4j.updaters.config.Adam8bit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;

import java.util.Map;

/**
 * The GradientUpdater of {@link Adam8bit}. All state lives in DL4J's updater view array (so
 * save/restore, clone and convertDataType see it): 8-bit blocks in the NaN-safe packed layout of
 * {@link OptimState8bit#packed}, or, for small blocks / optimBits=32, m then v as FLOAT.
 * The layout depends only on the gradient length, which DL4J may merge across parameters, so it
 * is derived on the first applyUpdater, not in stateSize.
 */
public class Adam8bitUpdater implements GradientUpdater<Adam8bit> {
    private final Adam8bit config;
    private INDArray view;
    private OptimState8bit state8;   // derived from view on first use

    public Adam8bitUpdater(Adam8bit config) {
        this.config = config;
    }

    @Override
    public Adam8bit getConfig() {
        return config;
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        if (viewArray != null && viewArray.dataType() != DataType.FLOAT) {
            throw new IllegalStateException("Adam8bit state must be a FLOAT view (8-bit codes are packed into float words); "
                    + "got " + viewArray.dataType() + ": HALF/BFLOAT16/DOUBLE networks are not supported, and "
                    + "convertDataType() destroys the packed state");
        }
        this.view = viewArray;
        this.state8 = null;
        if (initialize && viewArray != null) viewArray.assign(0);
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        throw new UnsupportedOperationException("Adam8bit state lives in the updater view array");
    }

    @Override
    public Map<String, INDArray> getState() {
        return view == null ? Map.of() : Map.of("state", view);
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (view == null) throw new IllegalStateException("Adam8bit updater has no state view (stateSize 0?)");
        if (gradient.dataType() != DataType.FLOAT) {
            throw new IllegalStateException("Adam8bit needs FLOAT gradients, got " + gradient.dataType());
        }
        long n = gradient.length();
        OptimHyper h = OptimHyper.adam(config.getLearningRate(iteration, epoch), config.getBeta1(), config.getBeta2(),
                config.getEpsilon(), iteration + 1L);
        INDArray g = gradient.isView() || gradient.ordering() != 'c' ? gradient.dup('c') : gradient;
        if (config.uses8bit(n)) {
            if (state8 == null || state8.length() != n) {
                long need = OptimState8bit.packedLength(OptimKind.ADAM, n, config.getBlocksize());
                if (view.length() < need) throw new IllegalStateException("Adam8bit state view has " + view.length()
                        + " floats; " + n + " parameters need " + need + " (a state from another configuration?)");
                state8 = OptimState8bit.packed(OptimKind.ADAM, flat(need), n, config.getBlocksize());
            }
            OptimizerKernels.get().step8bit(h, g, state8);
        } else {
            if (view.length() < 2 * n) throw new IllegalStateException("Adam8bit 32-bit state view has " + view.length()
                    + " floats; " + n + " parameters need " + 2 * n);
            INDArray flat = flat(2 * n);
            OptimizerKernels.get().step32(h, g, flat.get(NDArrayIndex.interval(0, n)), flat.get(NDArrayIndex.interval(n, 2 * n)));
        }
        if (g != gradient) gradient.assign(g);
    }

    private INDArray flat(long len) {
        INDArray f = view.reshape(view.length());
        return len == f.length() ? f : f.get(NDArrayIndex.interval(0, len));
    }
}
