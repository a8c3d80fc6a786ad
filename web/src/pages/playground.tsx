// Playground — to be built.
export function PlaygroundPage(_props: { name: string }) {
  return (
    <section>
      <h1>Playground</h1>
    </section>
  );
}
