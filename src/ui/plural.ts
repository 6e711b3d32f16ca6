/** Pure: "1 push", "2 pushes", "10,000 dead letters": the count with the right form of the noun. */
export const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
