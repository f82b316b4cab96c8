package org.bnb4j.internal.updaters;

import org.bnb4j.internal.kernels.KernelProvider;

import org.bnb4j.internal.kernels.HostBuffers;
import org.bnb4j.optim.OptimHyper;
import org.bnb4j.internal.optim.OptimizerKernels;
import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;

import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.*;

class PackedViewTest {

    /** Float words of a view: the view's own elements (FLOAT) or the bytes of its doubles. */
    static int[] words(INDArray view, int len) {
        ByteBuffer b = HostBuffers.of(view);
        int[] w = new int[len];
        for (int i = 0; i < len; i++) w[i] = b.getInt(4 * i);
        return w;
    }

    /**
     * The same FLOAT-valued gradients stepped on a FLOAT view and on a DOUBLE view give the same
     * updates and the same state bytes: the DOUBLE view holds the FLOAT layout word for word.
     * n = 10001 (n % 4 != 0: the code streams of states 2 and 3 start off a word boundary).
     */
    @Test
    void doubleViewHoldsTheFloatLayoutBitForBit() {
        for (BlockwiseUpdaterConfig cfg : org.bnb4j.updaters.TestUpdaters.trainingAndA32BitTwin()) {
            int n = 10_001;
            long size = cfg.stateSize(n);
            INDArray vf = Nd4j.create(DataType.FLOAT, 1, size), vd = Nd4j.create(DataType.DOUBLE, 1, size);
            GradientUpdater<?> uf = cfg.instantiate(vf, true), ud = cfg.instantiate(vd, true);
            Nd4j.getRandom().setSeed(42);
            for (int t = 0; t < 4; t++) {
                INDArray g = Nd4j.randn(DataType.FLOAT, 1, n).muli(t == 2 ? 100 : 0.01);
                if (t == 3) g.putScalar(17, Float.NaN);
                INDArray gf = g.dup(), gd = g.castTo(DataType.DOUBLE);
                uf.applyUpdater(gf, t, 0);
                ud.applyUpdater(gd, t, 0);
                assertEquals(DataType.DOUBLE, gd.dataType());
                assertEquals(gf, gd.castTo(DataType.FLOAT), cfg + " step " + t + ": same update");
                if (cfg.uses8bit(n)) {
                    assertArrayEquals(words(vf, (int) size), words(vd, (int) size), cfg + " step " + t + ": same words");
                } else {
                    assertEquals(vf, vd.castTo(DataType.FLOAT), "32-bit twin: the DOUBLE view holds the float states exactly");
                }
            }
            if (cfg.uses8bit(n)) {
                // the words take the first half of the view; the other half stays zero
                INDArray rest = vd.reshape(size).get(NDArrayIndex.interval((size + 1) / 2, size));
                assertEquals(0.0, rest.amaxNumber().doubleValue(), 0.0);
            }
        }
    }

    /** The typed 32-bit step gives the same result chunk by chunk as in one piece, strided gradients included. */
    @Test
    void chunkedTyped32BitStepEqualsOnePiece() {
        int n = 3001;
        for (DataType t : new DataType[]{DataType.HALF, DataType.DOUBLE, DataType.BFLOAT16}) {
            Nd4j.getRandom().setSeed(7);
            INDArray stateA = Nd4j.rand(DataType.FLOAT, 2 * n).muli(1e-3).castTo(t), stateB = stateA.dup();
            INDArray big = Nd4j.randn(DataType.FLOAT, 2, n).muli(0.1).castTo(t);
            INDArray gA = big.get(NDArrayIndex.point(0), NDArrayIndex.all()).dup(), gB = gA.dup();
            INDArray strided = big.transpose().dup('f').transpose(); // same values, column strides
            INDArray gC = strided.get(NDArrayIndex.point(0), NDArrayIndex.all());
            INDArray stateC = stateA.dup();
            PackedView one = new PackedView(), chunked = new PackedView(), stridedView = new PackedView();
            chunked.chunk = 1000;
            stridedView.chunk = 1000;
            OptimHyper h = OptimHyper.adam(1e-3, 0.9, 0.999, 1e-8, 3);
            one.step32(KernelProvider.get().optimizerKernels(), h, gA, stateA, 2, n);
            chunked.step32(KernelProvider.get().optimizerKernels(), h, gB, stateB, 2, n);
            stridedView.step32(KernelProvider.get().optimizerKernels(), h, gC, stateC, 2, n);
            assertEquals(gA, gB, t + ": updates");
            assertEquals(stateA, stateB, t + ": states");
            assertEquals(gA, gC.dup(), t + ": strided gradient written back");
            assertEquals(stateA, stateC, t + ": states (strided gradient)");
            assertNotEquals(0.0, gA.amaxNumber().doubleValue());
        }
    }

    /** A FLOAT alias over a DOUBLE array sees and writes its bytes, and keeps the array reachable. */
    @Test
    void floatAliasKeepsItsOwnerReachable() throws Exception {
        INDArray owner = Nd4j.create(DataType.DOUBLE, 1000);
        owner.putScalar(3, Double.longBitsToDouble(0x3ff0000012345678L));
        INDArray alias = HostBuffers.aliasFloats(owner, 0, 2000);
        assertEquals(0x12345678, Float.floatToRawIntBits(alias.getFloat(6)));
        assertEquals(0x3ff00000, Float.floatToRawIntBits(alias.getFloat(7)));
        alias.putScalar(0, 1.0f);
        assertEquals(0x3f800000L, Double.doubleToRawLongBits(owner.getDouble(0)));
        WeakReference<INDArray> ref = new WeakReference<>(owner);
        owner = null;
        for (int i = 0; i < 5 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertNotNull(ref.get(), "the alias keeps the owner reachable");
        assertEquals(0x3ff00000, Float.floatToRawIntBits(alias.getFloat(7)));
        assertThrows(IllegalArgumentException.class, () -> HostBuffers.aliasFloats(ref.get(), 4, 2000));
    }

    @Test
    void halfViewsNeedTheirSizeAndBfloat16Refuses8bitButBothRun32Bit() {
        long n = 5000;
        for (DataType t : new DataType[]{DataType.HALF, DataType.BFLOAT16}) {
            Adam8bit eight = new Adam8bit();
            INDArray view = Nd4j.create(t, 1, eight.stateSize(n));
            GradientUpdater<?> u = eight.instantiate(view, true);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> u.applyUpdater(Nd4j.ones(t, 1, n), 0, 0));
            // HALF: the view DL4J sizes without viewDataType(HALF) is too small, and the message says so
            String expected = t == DataType.HALF ? "viewDataType(DataType.HALF)" : "optimBits(32)";
            assertTrue(e.getMessage().contains(t.toString()) && e.getMessage().contains(expected), e.getMessage());

            Adam8bit twin = Adam8bit.builder().optimBits(32).build();
            INDArray tv = Nd4j.create(t, 1, twin.stateSize(n));
            INDArray g = Nd4j.ones(t, 1, n).muli(0.5);
            twin.instantiate(tv, true).applyUpdater(g, 0, 0);
            // Adam's first step: m = 0.1 g, v = 0.001 g^2, update = lr * sign(g) (up to eps)
            assertEquals(1e-3, g.getDouble(0), 1e-5);
            assertEquals(0.05, tv.getDouble(0), 1e-3);
            assertEquals(0.00025, tv.getDouble(n), 1e-5);
        }
    }
}
