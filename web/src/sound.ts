/**
 * The critical-alert tone, synthesised with the Web Audio API (no audio file). Browsers only let a page
 * make sound after a user gesture, so the AudioContext is created by the "Sound on" button's click and
 * the tone plays only while the operator has it switched on.
 */
export class Siren {
  #ctx: AudioContext | undefined;
  #on = false;

  get on(): boolean {
    return this.#on;
  }

  /** Call from a click handler: creating/resuming the context needs the gesture. */
  async enable(): Promise<void> {
    this.#ctx ??= new AudioContext();
    if (this.#ctx.state === 'suspended') await this.#ctx.resume();
    this.#on = true;
  }

  disable(): void {
    this.#on = false;
  }

  /** Three rising two-tone sweeps, about 1.5 s in all. Does nothing while sound is off. */
  play(): void {
    const ctx = this.#ctx;
    if (!this.#on || !ctx || ctx.state !== 'running') return;
    const t0 = ctx.currentTime + 0.02;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0.0001, t0);
    gain.connect(ctx.destination);
    const osc = ctx.createOscillator();
    osc.type = 'square';
    osc.connect(gain);
    for (let i = 0; i < 3; i++) {
      const t = t0 + i * 0.5;
      osc.frequency.setValueAtTime(660, t);
      osc.frequency.linearRampToValueAtTime(990, t + 0.4);
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.15, t + 0.03);
      gain.gain.setValueAtTime(0.15, t + 0.38);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.45);
    }
    osc.start(t0);
    osc.stop(t0 + 1.5);
    osc.onended = () => gain.disconnect();
  }
}
