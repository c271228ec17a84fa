"""PSP adapters: Ingenico/Ogone e-Commerce (`ogone`), Worldline Direct (`worldline`) and the local
simulator that speaks the Ogone protocol (`simulator`)."""
