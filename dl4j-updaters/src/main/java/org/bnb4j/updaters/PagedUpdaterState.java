package org.bnb4j.updaters;

import org.bnb4j.internal.paging.PagedMemory;
import org.bnb4j.internal.paging.PagingDirectory;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Gives a network an updater whose whole state view is paged memory from the start.
 *
 * <p>With {@code paged(true)} alone, DL4J allocates the updater view in ordinary memory (ND4J fills it
 * as it allocates it) and the updater then moves it to its file: for a moment the whole state is
 * resident. Where the state does not fit in memory even for that moment, call {@link #install} after
 * {@code init()} and before the first {@code fit()}: DL4J's own updater is built on a view that is a
 * file mapping from the start, so no more than the pages a step is using are ever resident. The
 * view is DL4J's as before: save, restore, clone and evaluation see it as they always do. A network
 * that already has an updater keeps its state (it is copied into the new view).
 */
public final class PagedUpdaterState {
    private PagedUpdaterState() {}

    /** For a MultiLayerNetwork (after init()). Returns the bytes of the paged view. */
    public static long install(MultiLayerNetwork net) {
        if (net == null) throw new IllegalArgumentException("network is null");
        if (net.getLayers() == null || net.params() == null) {
            throw new IllegalStateException("PagedUpdaterState.install: the network is not initialised; call init() first");
        }
        Layer[] layers = net.getLayers();
        INDArray view = pagedView(List.of(layers), net.params().dataType());
        Updater old = net.getUpdater(false);
        copyState(old == null ? null : old.getStateViewArray(), view);
        MultiLayerUpdater u = new MultiLayerUpdater(net, view);
        requireSize(u, view);
        net.setUpdater(u);
        return view.length() * view.data().getElementSize();
    }

    /** For a ComputationGraph (after init()). Returns the bytes of the paged view. */
    public static long install(ComputationGraph graph) {
        if (graph == null) throw new IllegalArgumentException("graph is null");
        if (graph.getVertices() == null || graph.params() == null) {
            throw new IllegalStateException("PagedUpdaterState.install: the graph is not initialised; call init() first");
        }
        List<Trainable> trainable = new ArrayList<>();
        for (GraphVertex v : graph.getVertices()) if (v.numParams() > 0) trainable.add(v);
        INDArray view = pagedView(trainable, graph.params().dataType());
        ComputationGraphUpdater old = graph.getUpdater(false);
        copyState(old == null ? null : old.getStateViewArray(), view);
        ComputationGraphUpdater u = new ComputationGraphUpdater(graph, view);
        requireSize(u, view);
        graph.setUpdater(u);
        return view.length() * view.data().getElementSize();
    }

    /**
     * A paged view of the size DL4J gives it (the sum of each parameter's stateSize, BaseMultiLayerUpdater)
     * in the directory of the network's paged updaters: it must have at least one, and they must agree.
     */
    private static INDArray pagedView(List<? extends Trainable> layers, org.nd4j.linalg.api.buffer.DataType type) {
        long size = 0;
        Path dir = null;
        for (Trainable t : layers) {
            Map<String, INDArray> params = t.paramTable(false);
            if (params == null) continue;
            for (Map.Entry<String, INDArray> e : params.entrySet()) {
                IUpdater u = t.getConfig().getUpdaterByParam(e.getKey());
                size += u.stateSize(e.getValue().length());
                if (!(u instanceof BlockwiseUpdaterConfig) || !((BlockwiseUpdaterConfig) u).isPaged()) continue;
                Path d = PagingDirectory.resolve(((BlockwiseUpdaterConfig) u).getPagedDirectory());
                if (dir != null && !dir.equals(d)) {
                    throw new IllegalStateException("the network's paged updaters name different directories (" + dir + ", " + d + "): one view, one directory");
                }
                dir = d;
            }
        }
        if (dir == null) throw new IllegalStateException("no updater of this network is configured with paged(true)");
        PagingDirectory.check(dir, size * org.bnb4j.internal.kernels.ArrayMemory.elementSize(type));
        return PagedMemory.allocate(type, size, dir);
    }

    private static void copyState(INDArray old, INDArray view) {
        if (old == null) return;
        if (old.length() != view.length()) {
            throw new IllegalStateException("the network's updater view has " + old.length() + " values, DL4J's sizing gives " + view.length());
        }
        view.assign(old.reshape(old.length()));
    }

    /** The last updater block must end where the view does: otherwise the sizing above is not DL4J's. */
    private static void requireSize(BaseMultiLayerUpdater<?> u, INDArray view) {
        List<UpdaterBlock> blocks = u.getUpdaterBlocks();
        long end = blocks.isEmpty() ? 0 : blocks.get(blocks.size() - 1).getUpdaterViewOffsetEnd();
        if (end != view.length()) throw new IllegalStateException("updater view sizing differs from DL4J's: " + end + " != " + view.length());
    }
}
