/**
 * 8-bit optimizers (Adam8bit, SGD8bit, ...) as DL4J {@code IUpdater}s. Not implemented yet: this module
 * only fixes the place in the build; see the project README for the status.
 */
package org.bnb4j.updaters;
