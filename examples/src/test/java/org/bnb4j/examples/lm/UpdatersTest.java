package org.bnb4j.examples.lm;

import org.bnb4j.optim.OptimKind;
import org.bnb4j.updaters.config.AdEMAMix8bit;
import org.bnb4j.updaters.config.Adagrad8bit;
import org.bnb4j.updaters.config.Adam8bit;
import org.bnb4j.updaters.config.BlockwiseUpdaterConfig;
import org.bnb4j.updaters.config.Lion8bit;
import org.bnb4j.updaters.config.RMSprop8bit;
import org.bnb4j.updaters.config.SGD8bit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class UpdatersTest {

    /** The names the command line accepted when the list was written by hand still give the same updaters. */
    @Test
    void namesUsersAlreadyUseKeepTheirUpdaters() {
        double lr = 2e-3;
        Map<String, IUpdater> expected = Map.ofEntries(
                Map.entry("adam", new Adam(lr)),
                Map.entry("adam8bit", new Adam8bit(lr)),
                Map.entry("adam32bit", Adam8bit.builder().learningRate(lr).optimBits(32).build()),
                Map.entry("nesterovs", new Nesterovs(lr, 0.9)),
                Map.entry("sgd8bit", new SGD8bit(lr, 0.9)),
                Map.entry("rmsprop", new RmsProp(lr)),
                Map.entry("rmsprop8bit", new RMSprop8bit(lr)),
                Map.entry("adagrad", new AdaGrad(lr)),
                Map.entry("adagrad8bit", new Adagrad8bit(lr)),
                Map.entry("lion8bit", new Lion8bit(lr)),
                Map.entry("ademamix8bit", new AdEMAMix8bit(lr)));
        assertEquals(expected.keySet(), Set.copyOf(Updaters.NAMES));
        expected.forEach((name, u) -> {
            assertEquals(u, Updaters.create(name, lr), name);
            assertEquals(u, Updaters.create(name.toUpperCase(java.util.Locale.ROOT), lr), name + " in upper case");
        });
    }

    /** Every optimizer is offered (the list comes from OptimKind, not from this module). */
    @Test
    void everyOptimizerIsOffered() {
        Set<OptimKind> offered = EnumSet.noneOf(OptimKind.class);
        for (String n : Updaters.NAMES) {
            if (Updaters.create(n, 1e-3) instanceof BlockwiseUpdaterConfig c && c.getOptimBits() == 8) offered.add(c.kind());
        }
        assertEquals(EnumSet.allOf(OptimKind.class), offered);
    }

    @Test
    void anUnknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Updaters.create("adamx", 1e-3));
        assertTrue(e.getMessage().contains("unknown updater 'adamx'") && e.getMessage().contains("ademamix8bit"), e.getMessage());
    }
}
